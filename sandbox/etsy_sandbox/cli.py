"""``etsy-sandbox`` (also ``python -m etsy_sandbox``): serve the sandbox until interrupted.

The first line on stderr is ``Etsy sandbox on http://HOST:PORT ...``; a
program that starts the sandbox with ``--port 0`` reads the URL from it.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import click

from .config import DEFAULT_KEYSTRING, DEFAULT_SHARED_SECRET


@click.command("etsy-sandbox", help="Run the local Etsy Open API v3 sandbox (admin API under /_sandbox/).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8910, show_default=True, type=click.IntRange(0, 65535), help="TCP port (0: any free port).")
@click.option("--rate-per-second", default=10, show_default=True, type=click.IntRange(1), help="App quota: calls per second.")
@click.option("--rate-per-day", default=10000, show_default=True, type=click.IntRange(1), help="App quota: calls per rolling day.")
@click.option("--rate-window", type=click.Choice(["sliding", "fixed"]), default="sliding", show_default=True,
              help="sliding: no more than N calls in any 1 s; fixed: per wall-clock second.")
@click.option("--strict/--no-strict", default=True, show_default=True,
              help="Reject requests that break Etsy's OpenAPI document (400, listed in /_sandbox/violations).")
@click.option("--check-responses/--no-check-responses", default=False, show_default=True,
              help="Also validate the sandbox's own responses (slower; for contract tests).")
@click.option("--openapi", "openapi_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Etsy's OpenAPI document to check against (default: the facts file shipped with the sandbox).")
@click.option("--keystring", default=lambda: os.environ.get("ETSY_KEYSTRING") or DEFAULT_KEYSTRING,
              help="The app keystring the sandbox accepts (default: $ETSY_KEYSTRING or 'sandboxkey').")
@click.option("--shared-secret", default=lambda: os.environ.get("ETSY_SHARED_SECRET") or DEFAULT_SHARED_SECRET,
              help="The app shared secret (default: $ETSY_SHARED_SECRET or 'sandboxsecret').")
@click.option("--create-shop", is_flag=True, help="Create one seller shop at start and print its ids and tokens as JSON.")
def main(host, port, rate_per_second, rate_per_day, rate_window, strict, check_responses, openapi_path, keystring,
         shared_secret, create_shop):
    from .app import create_app
    from .server import build_server
    from .spec import DocumentError

    try:
        app = create_app(keystring=keystring, shared_secret=shared_secret, rate_per_second=rate_per_second,
                         rate_per_day=rate_per_day, rate_window=rate_window, strict=strict,
                         check_responses=check_responses, openapi_path=openapi_path)
    except DocumentError as error:  # strict mode never goes off by accident: refuse to start
        raise click.ClickException(f"{error}; the sandbox does not start without it") from None
    server = build_server(app, host, port)
    bound_host, bound_port = server.server_address[:2]
    url = f"http://{bound_host}:{bound_port}"
    mode = "strict" if strict else "NOT strict (requests are not checked against Etsy's document)"
    click.echo(f"Etsy sandbox on {url}  (ETSY_API_URL={url}, ETSY_AUTHORIZE_URL={url}/oauth/connect), {mode}",
               err=True)
    click.echo(f"x-api-key: {keystring}:<shared secret>; admin API: {url}/_sandbox/", err=True)
    if create_shop:
        from werkzeug.test import Client  # the same code path as POST /_sandbox/shops

        client = Client(app)
        reply = client.post("/_sandbox/shops", json={}, base_url=url)
        click.echo(json.dumps(reply.get_json()))
    sys.stdout.flush()
    sys.stderr.flush()

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        app.stopping.set()
        server.server_close()


if __name__ == "__main__":  # pragma: no cover
    main()
