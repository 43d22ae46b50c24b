"""``etsyflow admin``: the administrators' web console, and its user accounts.

    etsyflow admin [--host 127.0.0.1] [--port 8080] [--trusted-proxy ADDR]   serve the console (waitress)
    etsyflow admin users add NAME                      password from stdin or a hidden prompt
    etsyflow admin users list
    etsyflow admin users remove NAME

A password is never taken as an argument (it would show in ``ps`` and shell history).
"""

from __future__ import annotations

import sys

import click

from ..config import get_settings


def _shared_redis():
    settings = get_settings()
    if not settings.redis_url:
        raise click.ClickException("set REDIS_URL: administrators and sessions are kept in Redis (with the "
                                   "embedded in-memory parts they would vanish with the process)")
    from ..state import get_redis

    return settings, get_redis()


@click.group("admin", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (cookies are marked Secure unless it is a loopback address)")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="port to listen on")
@click.option("--trusted-proxy", metavar="ADDRESS", default=None,
              help="address of the TLS reverse proxy in front: its X-Forwarded-For/-Proto are believed, "
                   "and cookies are always Secure")
@click.pass_context
def admin(ctx: click.Context, host: str, port: int, trusted_proxy: str | None) -> None:
    """The administrators' web console: shops, operations, settings, audit log."""
    if ctx.invoked_subcommand is not None:
        return
    settings, redis = _shared_redis()
    if not settings.secret_key:
        raise click.ClickException("set SECRET_KEY: the console signs its cookies with it, and shop tokens are "
                                   "stored encrypted with it")
    from ..admin import create_app, serve
    from ..admin.recent import EventRecorder
    from ..admin.samples import Sampler
    from ..admin.users import AdminUsers

    app = create_app(settings, redis=redis, host=host, behind_tls_proxy=bool(trusted_proxy))
    if not AdminUsers(redis).names():
        click.echo("No administrator yet: create one with `etsyflow admin users add NAME`.", err=True)
    recorder, sampler = EventRecorder(redis).start(), Sampler(redis, settings).start()
    try:
        serve(app, host, port, trusted_proxy=trusted_proxy,
              on_start=lambda server: click.echo(f"etsyflow admin console on {server.url}", err=True))
    finally:
        recorder.stop()
        sampler.stop()


@admin.group("users")
def users() -> None:
    """Administrator accounts (kept in Redis, passwords as Argon2 hashes)."""


def _read_password(name: str) -> str:
    if sys.stdin is not None and not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)


@users.command("add")
@click.argument("name")
@click.option("--replace", is_flag=True, help="set a new password for an existing administrator")
def users_add(name: str, replace: bool) -> None:
    """Create administrator NAME; the password is read from standard input or a hidden prompt."""
    from ..admin import audit
    from ..admin.users import AdminUsers, UserError, check_name

    _, redis = _shared_redis()
    try:
        name = check_name(name)
        created = AdminUsers(redis).add(name, _read_password(name), replace=replace)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    if not created:
        raise click.ClickException(f"administrator {name} exists (use --replace to set a new password)")
    audit.record(redis, "cli", "administrator password set" if replace else "administrator added", name)
    click.echo(f"administrator {name} {'updated' if replace else 'added'}")


@users.command("list")
def users_list() -> None:
    """Administrators and when they were created."""
    from ..admin.context import when
    from ..admin.users import AdminUsers

    _, redis = _shared_redis()
    listed = AdminUsers(redis).list()
    if not listed:
        click.echo("no administrators (add one with `etsyflow admin users add NAME`)")
    for user in listed:
        click.echo(f"{user['name']}  (since {when(user['created_at'])})")


@users.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Remove administrator NAME (their open sessions end at their next request)."""
    from ..admin import audit
    from ..admin.users import AdminUsers, UserError

    _, redis = _shared_redis()
    try:
        removed = AdminUsers(redis).remove(name)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    if not removed:
        raise click.ClickException(f"no administrator {name}")
    audit.record(redis, "cli", "administrator removed", name)
    click.echo(f"administrator {name} removed")


COMMANDS = [admin]
