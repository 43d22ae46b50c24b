"""Long-running processes: ``etsyflow worker`` and ``etsyflow bridge``.

(``etsyflow scheduler`` and ``etsyflow webhooks`` live with the orders code.)
"""

from __future__ import annotations

import os
import signal
import sys

import click

from ..config import get_settings
from ..config.logging import get_logger
from .keys import require_readable_secrets

log = get_logger("etsyflow.cli")

#: How long (milliseconds) a worker told to stop lets running actors finish before it exits anyway
#: (Dramatiq's default is 10 minutes). What it still holds stays unacknowledged and is back in its
#: queue within 20 s (the upkeep of the other workers); under a supervisor's usual 30 s grace.
WORKER_SHUTDOWN_TIMEOUT_MS = 25_000


@click.command("bridge")
def bridge() -> None:
    """Consume events from the bus, validate them, hand them to the actors."""
    from ..bridge import Bridge
    from ..messages.bus import connection
    from ..workers import setup
    from ..workers.broker import build_broker

    settings = get_settings()
    if settings.embedded:
        raise click.ClickException("the bridge process needs REDIS_URL (or BROKER_URL): with the embedded "
                                   "in-memory parts only `etsyflow demo` can run, in one process")
    require_readable_secrets("bridge")
    actors = setup(build_broker(settings))
    from ..workers.metrics import serve

    serve("bridge", settings)  # /metrics on METRICS_PORT + 1 when METRICS_PORT is set
    with connection() as conn:
        worker = Bridge(conn, actors)
        signal.signal(signal.SIGTERM, lambda *_: setattr(worker, "should_stop", True))
        log.info("bridge starting", events_url=conn.as_uri())
        worker.run()


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.argument("dramatiq_args", nargs=-1, type=click.UNPROCESSED)
def worker(dramatiq_args) -> None:
    """Run the Dramatiq actors (extra arguments go to the dramatiq CLI, e.g. --processes 2 --threads 8)."""
    if get_settings().embedded:
        raise click.ClickException("the worker process needs REDIS_URL (or BROKER_URL)")
    require_readable_secrets("worker")
    from ..workers.metrics import prepare_worker_environment

    argv = [sys.executable, "-m", "dramatiq", "etsyflow.workers.main", *dramatiq_args]
    if not any(a.startswith("--worker-shutdown-timeout") for a in dramatiq_args):
        argv += ["--worker-shutdown-timeout", str(WORKER_SHUTDOWN_TIMEOUT_MS)]
    # With METRICS_PORT: Dramatiq's exposition server and the multiprocess metrics directory.
    os.execve(sys.executable, argv, prepare_worker_environment(dict(os.environ)))


COMMANDS = [bridge, worker]
