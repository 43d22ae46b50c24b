"""``etsyflow keygen`` and ``etsyflow keys rotate``: the key that encrypts stored
tokens, and the start-up check every long-running process makes with it."""

from __future__ import annotations

import click

from ..config import get_settings


def require_readable_secrets(process: str) -> None:
    """Refuse to start ``process`` when SECRET_KEY (with SECRET_KEY_FALLBACKS) cannot
    decrypt the secrets stored in Redis: a wrong key would otherwise look like
    revoked shops. Does nothing on the embedded store (nothing is stored)."""
    settings = get_settings()
    if not settings.redis_url:
        return
    from ..shops import ShopStore

    problems = ShopStore(settings=settings).check_keys()
    if problems:
        raise click.ClickException(f"etsyflow {process} will not start: " + "; ".join(problems))


@click.command("keygen")
def keygen() -> None:
    """Print a new strong key for SECRET_KEY (256 random bits)."""
    from ..shops.crypto import generate_key

    click.echo(generate_key())


@click.group("keys", help="The keys that encrypt stored tokens.")
def keys() -> None:
    pass


@keys.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored token under SECRET_KEY.

    Put the old key in SECRET_KEY_FALLBACKS and the new one in SECRET_KEY
    (every process), run this, then drop the old key from SECRET_KEY_FALLBACKS.
    """
    settings = get_settings()
    if not settings.redis_url:
        raise click.ClickException("`etsyflow keys rotate` needs REDIS_URL: the embedded store holds nothing "
                                   "that outlives this command")
    from ..shops import ShopStore
    from ..shops.crypto import SecretKeyMissing

    try:
        store = ShopStore(settings=settings)
        result = store.rotate_keys()
    except SecretKeyMissing as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"re-encrypted under key {store.box.key_id}: {result['rotated']} shop(s); "
               f"already current: {result['current']}")
    if result["failed"]:
        raise click.ClickException(
            f"{len(result['failed'])} shop(s) could not be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS "
            f"({', '.join(map(str, result['failed'][:10]))}): add the key they were stored with to "
            "SECRET_KEY_FALLBACKS and run this again")


COMMANDS = [keygen, keys]
