"""Etsy clients that act for a connected shop: the one place they are built.

:class:`~etsyflow.etsy.EtsyClient` knows nothing of shops; here it gets the
shop's stored, encrypted tokens (:class:`~.tokens.ShopTokens`, refreshed under
a lock) as its token provider.

:func:`clients` returns the pair every domain actor uses:

* ``client`` resends after transient failures (reads and idempotent writes:
  PUT, PATCH, DELETE);
* ``once`` never resends: for creates (new listing, image upload, shipping
  profile, shipment …) a resend after a lost answer is how duplicates are
  made; the actor is retried instead, and its intent records find what the
  lost call created.
"""

from __future__ import annotations

from ..config import get_settings
from ..etsy.client import EtsyClient
from ..state import get_redis
from .store import ShopStore
from .tokens import ShopTokens


def shop_client(shop_id: int, settings=None, redis=None, session=None, *, store: ShopStore | None = None,
                prefix: str = "etsyflow", **options) -> EtsyClient:
    """An :class:`EtsyClient` for ``shop_id`` with the shop's stored tokens (``options``: EtsyClient's)."""
    settings = settings or (store.settings if store is not None else get_settings())
    redis = redis if redis is not None else (store.redis if store is not None else get_redis())
    client = EtsyClient(shop_id, settings, redis, session, prefix=prefix, **options)
    store = store or ShopStore(redis, settings, prefix=prefix)
    client.tokens = ShopTokens(client.shop_id, store, client.transport)
    return client


def clients(shop_id: int) -> tuple[EtsyClient, EtsyClient]:
    """``(client, once)`` for ``shop_id``: the resending client and the one-attempt client."""
    return shop_client(shop_id), shop_client(shop_id, max_attempts=1)
