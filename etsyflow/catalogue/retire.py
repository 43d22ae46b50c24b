"""Upstream retires a product: its Etsy listing made inactive, or deleted.

``deactivate`` (the default) keeps the listing on Etsy, out of sale
(``updateListing state=inactive``), with its reviews, stats and link: a
later ``ListingReady`` for the product activates it again. A draft stays a
draft (buyers never see drafts; Etsy has no way from draft to inactive).

``delete`` removes it (``deleteListing``). Etsy deletes listings that are
sold out, drafts, expired, inactive, or active and available; a listing it
refuses to delete as it is (400/409) is made inactive first, then deleted.
The link is forgotten: a later ``ListingReady`` creates a new listing.

Both run under the product's lock, and are idempotent: a listing already
inactive is not written again, an already deleted one (Etsy 404, or the
record says so) is answered as deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..etsy.errors import PermanentError
from ..messages import Refused
from ..schemas import inventory as inv
from . import keys, locks, records

REMOVED = "removed"
DELETED = "deleted"


@dataclass
class Outcome:
    listing_id: int
    state: str
    changed: bool


def remove(data: dict, *, client, redis, lock_wait_seconds: float = locks.DEFAULT_WAIT_SECONDS) -> Outcome:
    shop_id, product_id, mode = data["shop_id"], data["product_id"], data.get("mode") or "deactivate"
    with locks.held(redis, keys.listing_lock(shop_id, product_id), wait_seconds=lock_wait_seconds):
        link = records.load_listing(redis, shop_id, product_id)
        if link.status == REMOVED and link.listing_id:
            return Outcome(link.listing_id, DELETED, False)  # deleted before: the same answer
        if not link.linked:
            raise Refused(f"product {product_id} has no Etsy listing in shop {shop_id}: nothing to "
                          f"{'delete' if mode == 'delete' else 'deactivate'}")
        if mode == "delete":
            return _delete(link, client=client, redis=redis)
        return _deactivate(link, client=client, redis=redis)


def _deactivate(link: records.ListingLink, *, client, redis) -> Outcome:
    changed = False
    if link.state not in ("inactive", "draft"):
        answer = client.update_listing(link.listing_id, {"state": "inactive"}) or {}
        link.state = answer.get("state") or "inactive"
        changed = True
    # Retired on purpose: stock coming back must not activate it (see stock.py).
    link.desired_state, link.stock_inactive = "inactive", False
    records.save_listing(redis, link, "state", "desired_state", "stock_inactive")
    return Outcome(link.listing_id, link.state or "inactive", changed)


def _delete(link: records.ListingLink, *, client, redis) -> Outcome:
    try:
        client.delete_listing(link.listing_id)
    except PermanentError as error:
        if error.status == 404:
            pass  # gone already (a retry after a lost answer, or deleted on Etsy)
        elif error.status in (400, 409) and link.state != "inactive":
            client.update_listing(link.listing_id, {"state": "inactive"})
            client.delete_listing(link.listing_id)
        else:
            raise
    listing_id = link.listing_id
    skus = inv.skus(link.inventory or {}) + inv.skus(link.held or {})
    records.index_skus(redis, link.shop_id, listing_id, None, [], skus)
    redis.delete(keys.listing_owner(link.shop_id, listing_id))
    link.status, link.state, link.inventory, link.held, link.images = REMOVED, DELETED, None, None, []
    link.fields, link.fp_fields, link.properties, link.stock_inactive = {}, None, {}, False
    records.save_listing(redis, link)
    return Outcome(listing_id, DELETED, True)
