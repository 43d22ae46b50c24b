"""``etsyflow sandbox``: serve the local Etsy stand-in until interrupted."""

from __future__ import annotations

import json
import os

import click

from ..sandbox.config import DEFAULT_KEYSTRING, DEFAULT_SHARED_SECRET


@click.command("sandbox", help="Run the local Etsy Open API v3 sandbox (admin API under /_sandbox/).")
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
@click.option("--keystring", default=lambda: os.environ.get("ETSY_KEYSTRING") or DEFAULT_KEYSTRING,
              help="The app keystring the sandbox accepts (default: $ETSY_KEYSTRING or 'sandboxkey').")
@click.option("--shared-secret", default=lambda: os.environ.get("ETSY_SHARED_SECRET") or DEFAULT_SHARED_SECRET,
              help="The app shared secret (default: $ETSY_SHARED_SECRET or 'sandboxsecret').")
@click.option("--create-shop", is_flag=True, help="Create one seller shop at start and print its ids and tokens as JSON.")
def sandbox(host, port, rate_per_second, rate_per_day, rate_window, strict, check_responses, keystring,
            shared_secret, create_shop):
    from ..sandbox import create_app
    from ..sandbox.server import build_server

    app = create_app(keystring=keystring, shared_secret=shared_secret, rate_per_second=rate_per_second,
                     rate_per_day=rate_per_day, rate_window=rate_window, strict=strict,
                     check_responses=check_responses)
    server = build_server(app, host, port)
    bound_host, bound_port = server.server_address[:2]
    url = f"http://{bound_host}:{bound_port}"
    if strict and not app.strict_active:
        click.echo(f"warning: {app.strict_note}", err=True)
    click.echo(f"Etsy sandbox on {url}  (ETSY_API_URL={url}, ETSY_AUTHORIZE_URL={url}/oauth/connect)", err=True)
    click.echo(f"x-api-key: {keystring}:<shared secret>; admin API: {url}/_sandbox/", err=True)
    if create_shop:
        from werkzeug.test import Client  # the same code path as POST /_sandbox/shops

        client = Client(app)
        reply = client.post("/_sandbox/shops", json={}, base_url=url)
        click.echo(json.dumps(reply.get_json()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.stopping.set()
        server.server_close()


COMMANDS = [sandbox]
