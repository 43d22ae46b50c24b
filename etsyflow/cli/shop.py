"""``etsyflow shop …``: connect shops and set their options (administrators only).

No command ever prints a token.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import click

from ..config import get_settings

ON_OFF = click.Choice(["on", "off"], case_sensitive=False)


def _store():
    from ..shops import ShopStore

    return ShopStore(settings=get_settings())


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

    link = _run(connect, _shop_id(shop_id), store=_store())
    click.echo("Open this URL as the owner of the shop and approve etsyflow:\n")
    click.echo(link.url)
    click.echo(f"\nEtsy then sends the browser to your redirect URI. Within {link.expires_in // 60} minutes, run:\n"
               "  etsyflow shop complete --redirect-url '<the whole URL from the browser's address bar>'")


@shop.command("complete")
@click.option("--redirect-url", required=True, help="The URL Etsy redirected the browser to (with code and state).")
def complete_cmd(redirect_url) -> None:
    """Finish OAuth: exchange the code, check the shop, store the tokens encrypted."""
    from ..shops import complete

    connected = _run(complete, redirect_url, store=_store())
    click.echo(f"Connected shop {connected.shop_id}" + (f" ({connected.shop_name})" if connected.shop_name else "")
               + f"; token valid until {_when(connected.expires_at)}.")


@shop.command("import")
@click.option("--shop-id", required=True, help="The Etsy shop id.")
@click.option("--access-token", required=True, help="OAuth 2.0 access token (\"<user_id>.<token>\").")
@click.option("--refresh-token", required=True, help="OAuth 2.0 refresh token.")
def import_cmd(shop_id, access_token, refresh_token) -> None:
    """Store tokens obtained elsewhere, after Etsy confirms they are this shop's.

    If the access token has expired it is refreshed at once; Etsy rotates
    refresh tokens, so the pair then stops working wherever else it was used.
    """
    from ..shops import import_tokens

    connected = _run(import_tokens, _shop_id(shop_id), access_token, refresh_token, store=_store())
    click.echo(f"Imported tokens for shop {connected.shop_id}"
               + (f" ({connected.shop_name})" if connected.shop_name else "") + ".")


@shop.command("import-legacy")
@click.option("--shop-id", required=True, help="The Etsy shop id.")
@click.option("--oauth-token", required=True, help="The OAuth 1.0a (API v2) access token.")
@click.option("--oauth-token-secret", required=True, help="Its token secret (checked, not sent or stored).")
def import_legacy_cmd(shop_id, oauth_token, oauth_token_secret) -> None:
    """Exchange an OAuth 1.0a (API v2) token for v3 tokens and store them."""
    from ..shops import import_legacy

    connected = _run(import_legacy, _shop_id(shop_id), oauth_token, oauth_token_secret, store=_store())
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
    store = _store()
    shop_id = _shop_id(shop_id)
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
