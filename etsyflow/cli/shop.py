"""``etsyflow shop …``: connect shops and set their options (administrators only).

No command ever prints a token, and none takes one as an argument (arguments
show in ``ps`` and shell history): tokens come from environment variables,
standard input or a hidden prompt. Commands that change a shop refuse to run
on the embedded in-memory store (no ``REDIS_URL``), where what they store
would vanish when the command exits.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone

import click

from ..config import get_settings

ON_OFF = click.Choice(["on", "off"], case_sensitive=False)


def _store():
    from ..shops import ShopStore

    return ShopStore(settings=get_settings())


def _persistent_store(command: str):
    """The shop store, or a clear refusal when it would live in this process only."""
    if not get_settings().redis_url:
        raise click.ClickException(
            f"`etsyflow shop {command}` needs REDIS_URL: without it the shop store is in this "
            "command's memory and vanishes when it exits. Etsy rotates the refresh token when "
            "etsyflow uses it, so tokens kept there would be lost and the seller would have to "
            "reconnect. Set REDIS_URL to the deployment's Redis and run the command again.")
    return _store()


def _on_command_line(names: str, variables: str) -> click.UsageError:
    return click.UsageError(
        f"token values are not taken as arguments ({names}): arguments show in `ps` and in shell "
        f"history. Set {variables} in the environment, or pipe them on standard input "
        "(one per line), or run the command without them to be asked (input hidden).")


def _secrets_in(first: str, second: str, labels: tuple[str, str]) -> tuple[str, str]:
    """Two secrets from the environment variables ``first``/``second``, else from
    standard input (two lines) when it is not a terminal, else a hidden prompt."""
    a, b = os.environ.get(first, "").strip(), os.environ.get(second, "").strip()
    if a and b:
        return a, b
    if a or b:
        raise click.UsageError(f"set both {first} and {second}, or neither")
    stdin = sys.stdin
    if not stdin.isatty():
        lines = [line.strip() for line in stdin.read(64 * 1024).splitlines() if line.strip()]
        if len(lines) != 2:
            raise click.UsageError(f"standard input must hold two lines: the {labels[0]}, then the {labels[1]}")
        return lines[0], lines[1]
    return (click.prompt(labels[0].capitalize(), hide_input=True).strip(),
            click.prompt(labels[1].capitalize(), hide_input=True).strip())


def _fail(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


def _shop_id(value) -> int:
    from ..shops import check_shop_id

    try:
        return check_shop_id(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--shop-id") from None


def _run(func, *args, **kwargs):
    """Run a shops operation; expected failures become clear one-line errors."""
    from ..etsy.errors import EtsyError
    from ..shops import ConnectError, DecryptError, SecretKeyMissing, ShopNotFound

    try:
        return func(*args, **kwargs)
    except (ConnectError, SecretKeyMissing, DecryptError, ShopNotFound, EtsyError, ValueError) as error:
        raise _fail(error) from None


@click.group(help="Connect Etsy shops and set their options (tokens are stored encrypted).")
def shop() -> None:
    pass


@shop.command("connect")
@click.option("--shop-id", required=True, help="The Etsy shop id (a number).")
def connect_cmd(shop_id) -> None:
    """Start OAuth 2.0 (PKCE): print the Etsy login URL for the shop's owner."""
    from ..shops import connect

    link = _run(connect, _shop_id(shop_id), store=_persistent_store("connect"))
    click.echo("Open this URL as the owner of the shop and approve etsyflow:\n")
    click.echo(link.url)
    click.echo(f"\nEtsy then sends the browser to your redirect URI. Within {link.expires_in // 60} minutes, run:\n"
               "  etsyflow shop complete --redirect-url '<the whole URL from the browser's address bar>'")


@shop.command("complete")
@click.option("--redirect-url", required=True, help="The URL Etsy redirected the browser to (with code and state).")
def complete_cmd(redirect_url) -> None:
    """Finish OAuth: exchange the code, check the shop, store the tokens encrypted."""
    from ..shops import complete

    connected = _run(complete, redirect_url, store=_persistent_store("complete"))
    click.echo(f"Connected shop {connected.shop_id}" + (f" ({connected.shop_name})" if connected.shop_name else "")
               + f"; token valid until {_when(connected.expires_at)}.")


@shop.command("import")
@click.option("--shop-id", required=True, help="The Etsy shop id.")
@click.option("--access-token", hidden=True, help="Refused: use ETSY_ACCESS_TOKEN or standard input.")
@click.option("--refresh-token", hidden=True, help="Refused: use ETSY_REFRESH_TOKEN or standard input.")
def import_cmd(shop_id, access_token, refresh_token) -> None:
    """Store tokens obtained elsewhere, after Etsy confirms they are this shop's.

    The tokens are read from ETSY_ACCESS_TOKEN and ETSY_REFRESH_TOKEN when
    set, else from standard input (two lines: access token, refresh token),
    else asked for (input hidden). If the access token has expired it is
    refreshed at once; Etsy rotates refresh tokens, so the pair then stops
    working wherever else it was used.
    """
    from ..shops import import_tokens

    if access_token is not None or refresh_token is not None:
        raise _on_command_line("--access-token/--refresh-token", "ETSY_ACCESS_TOKEN and ETSY_REFRESH_TOKEN")
    shop_id = _shop_id(shop_id)
    store = _persistent_store("import")
    access_token, refresh_token = _secrets_in("ETSY_ACCESS_TOKEN", "ETSY_REFRESH_TOKEN",
                                              ("access token", "refresh token"))
    connected = _run(import_tokens, shop_id, access_token, refresh_token, store=store)
    click.echo(f"Imported tokens for shop {connected.shop_id}"
               + (f" ({connected.shop_name})" if connected.shop_name else "") + ".")


@shop.command("import-legacy")
@click.option("--shop-id", required=True, help="The Etsy shop id.")
@click.option("--oauth-token", hidden=True, help="Refused: use ETSY_LEGACY_OAUTH_TOKEN or standard input.")
@click.option("--oauth-token-secret", hidden=True,
              help="Refused: use ETSY_LEGACY_OAUTH_TOKEN_SECRET or standard input.")
def import_legacy_cmd(shop_id, oauth_token, oauth_token_secret) -> None:
    """Exchange an OAuth 1.0a (API v2) token for v3 tokens and store them.

    The token and its secret are read from ETSY_LEGACY_OAUTH_TOKEN and
    ETSY_LEGACY_OAUTH_TOKEN_SECRET when set, else from standard input (two
    lines), else asked for (input hidden). The secret is checked for presence
    but neither sent nor stored.
    """
    from ..shops import import_legacy

    if oauth_token is not None or oauth_token_secret is not None:
        raise _on_command_line("--oauth-token/--oauth-token-secret",
                               "ETSY_LEGACY_OAUTH_TOKEN and ETSY_LEGACY_OAUTH_TOKEN_SECRET")
    shop_id = _shop_id(shop_id)
    store = _persistent_store("import-legacy")
    oauth_token, oauth_token_secret = _secrets_in("ETSY_LEGACY_OAUTH_TOKEN", "ETSY_LEGACY_OAUTH_TOKEN_SECRET",
                                                  ("OAuth 1.0a token", "token secret"))
    connected = _run(import_legacy, shop_id, oauth_token, oauth_token_secret, store=store)
    click.echo(f"Exchanged the legacy token; shop {connected.shop_id}"
               + (f" ({connected.shop_name})" if connected.shop_name else "") + " is connected.")


@shop.command("settings")
@click.option("--shop-id", required=True, help="The Etsy shop id.")
@click.option("--update-shipping-templates", type=ON_OFF, default=None,
              help="Let etsyflow change existing Etsy shipping profiles (default off).")
@click.option("--send-bcc", type=ON_OFF, default=None,
              help="Copy the seller on Etsy's shipping notification e-mails (default off).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def settings_cmd(shop_id, update_shipping_templates, send_bcc, as_json) -> None:
    """Show (and change) a shop's options."""
    shop_id = _shop_id(shop_id)
    changing = update_shipping_templates is not None or send_bcc is not None
    store = _persistent_store("settings") if changing else _store()
    for name, value in (("update_shipping_templates", update_shipping_templates), ("send_bcc", send_bcc)):
        if value is not None:
            _run(store.set_setting, shop_id, name, value.lower() == "on")
    current = _run(store.require, shop_id)
    if as_json:
        click.echo(json.dumps({"shop_id": shop_id, **current.settings}))
        return
    for name, value in current.settings.items():
        click.echo(f"{name.replace('_', '-')}: {'on' if value else 'off'}")


@shop.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json) -> None:
    """Connected shops: token status and expiry, last sync."""
    shops = _run(_store().list_shops)
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in shops], indent=2))
        return
    if not shops:
        click.echo("No shops connected. Start with `etsyflow shop connect --shop-id N`.")
        return
    rows = [("SHOP", "NAME", "STATUS", "TOKEN EXPIRES", "LAST SYNC", "OPTIONS")]
    for s in shops:
        status = s.token_status if s.usable else f"{s.token_status} (reconnect)"
        options = ",".join(k for k, v in s.settings.items() if v) or "-"
        rows.append((str(s.shop_id), s.shop_name or "-", status, _when(s.expires_at, relative=True),
                     _when(s.last_poll_at), options))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    failed = [s for s in shops if not s.usable]
    for s in failed:
        click.echo(f"shop {s.shop_id}: {s.auth_failed_reason or 'tokens revoked'}; "
                   f"run `etsyflow shop connect --shop-id {s.shop_id}`", err=True)


@shop.command("sync-listings")
@click.option("--shop-id", required=True, help="The Etsy shop id.")
@click.option("--dry-run", is_flag=True, help="Read and match only: print what would be linked, created, "
                                              "left ambiguous and discovered; write and announce nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (no progress bar).")
def sync_listings_cmd(shop_id, dry_run, as_json) -> None:
    """Link the shop's existing Etsy listings to upstream products by SKU; announce the rest."""
    from . import sync_listings

    if not dry_run:
        _persistent_store("sync-listings")  # links and announcements made here would vanish with the process
    result = _run(sync_listings.run, _shop_id(shop_id), dry_run=dry_run, as_json=as_json)
    click.echo(json.dumps(result, indent=2, default=str) if as_json else sync_listings.render(result))


def _when(epoch: float | None, relative: bool = False) -> str:
    if not epoch:
        return "-"
    text = datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    if relative:
        left = epoch - time.time()
        text += f" (in {int(left // 60)} min)" if left > 0 else " (expired; refreshed on next call)"
    return text


COMMANDS = [shop]
