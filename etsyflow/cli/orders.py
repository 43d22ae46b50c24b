"""``etsyflow scheduler`` and ``etsyflow webhooks``: the order half's long-running processes."""

from __future__ import annotations

import signal
import threading

import click

from ..config import ConfigError, get_settings
from ..config.logging import get_logger

log = get_logger("etsyflow.cli")


def _stop_on_signals(stop) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop())


@click.command("scheduler")
@click.option("--once", is_flag=True, help="publish the ticks due now, then exit (cron, checks)")
def scheduler(once: bool) -> None:
    """Publish OrdersPollTick per connected shop every POLL_INTERVAL_SECONDS (and a reconcile
    tick every RECONCILE_INTERVAL_SECONDS), stretched to fit the daily Etsy quota."""
    from ..orders.config import get_orders_config
    from ..scheduler import Scheduler

    settings = get_settings()
    if settings.embedded and not once:
        raise click.ClickException("the scheduler process needs REDIS_URL: with the embedded in-memory parts "
                                   "only `etsyflow demo` can run, in one process")
    try:
        runner = Scheduler(config=get_orders_config())
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if once:
        sent = runner.run_once()
        click.echo(f"{len(sent)} poll tick(s) published")
        return
    from ..workers.metrics import serve

    serve("scheduler", settings)  # /metrics on METRICS_PORT + 2 when METRICS_PORT is set
    stop = threading.Event()
    _stop_on_signals(stop.set)
    runner.run(stop)


@click.command("webhooks")
@click.option("--port", type=click.IntRange(1, 65535), default=8090, show_default=True, envvar="WEBHOOKS_PORT",
              help="port to listen on (env WEBHOOKS_PORT)")
@click.option("--host", default="0.0.0.0", show_default=True, help="address to listen on")
def webhooks(port: int, host: str) -> None:
    """Receive Etsy's signed ORDER_PAID notifications on POST /webhooks/etsy and poll that shop at once."""
    from ..webhooks import PATH, create_app, serve

    if get_settings().embedded:
        raise click.ClickException("the webhook receiver needs REDIS_URL (it publishes to the shared bus): "
                                   "with the embedded in-memory parts only `etsyflow demo` can run")
    try:
        app = create_app()
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    server = serve(port, host, app=app)
    _stop_on_signals(lambda: threading.Thread(target=server.shutdown, daemon=True).start())
    log.info("webhook receiver listening", host=host, port=server.server_port, path=PATH)
    click.echo(f"listening on http://{host}:{server.server_port}{PATH}")
    server.serve_forever()


COMMANDS = [scheduler, webhooks]
