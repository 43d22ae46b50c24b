"""One SKU's quantity on Etsy, the rest of the matrix untouched.

The listing is found through etsyflow's SKU index (kept by every listing
sync); an SKU it does not know is looked for on Etsy (the shop's listings
with their inventory, bounded) and indexed when found.

The change reads the listing's current matrix (orders change quantities on
Etsy), sets that one product's quantity, and writes the whole matrix back.

Nothing left to sell: Etsy refuses an inventory in which no offering can be
bought (a single-offering listing cannot take quantity 0). So the matrix
is kept aside in the link record (``held``), not written, and the listing
is made ``inactive``. When stock returns, the held matrix (with the new
quantity) is written and the listing made ``active`` again — only if it
was etsyflow that deactivated it and the product is meant to be active.
A variation at 0 while others have stock is written: that offering is
disabled (Etsy shows it as sold out).

Runs under the product's lock, like a listing sync, so the two never
interleave their read-modify-write of one matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..messages import Refused
from ..schemas import listings as mapping
from ..schemas import inventory as inv
from . import freshness, keys, locks, records

#: Fallback search: at most this many pages of 100 listings per state.
SEARCH_PAGES = 10
SEARCH_STATES = ("active", "inactive", "draft", "sold_out")


@dataclass
class Outcome:
    listing_id: int
    product_id: str | None
    state: str
    changed: bool


def external_product_id(listing_id: int) -> str:
    """Record name for a listing etsyflow did not create (found by SKU on Etsy)."""
    return f"@listing:{int(listing_id)}"


def _search(client, sku: str) -> dict | None:
    """The shop's listing holding ``sku`` (with its inventory), or None."""
    for state in SEARCH_STATES:
        for page in range(SEARCH_PAGES):
            answer = client.get_listings_by_shop(state=state, limit=100, offset=page * 100,
                                                 includes=["Inventory"]) or {}
            results = answer.get("results") or []
            for listing in results:
                matrix = mapping.inventory_from_etsy(listing.get("inventory") or {})
                if inv.find_sku(matrix, sku) is not None:
                    return listing
            if len(results) < 100:
                break
    return None


def apply(data: dict, *, client, redis, lock_wait_seconds: float = locks.DEFAULT_WAIT_SECONDS,
          event_time: str | None = None) -> Outcome:
    """Write ``data``'s quantity; refused when a newer quantity (by ``event_time``) is on Etsy."""
    shop_id, sku, quantity = data["shop_id"], data["sku"], data["quantity"]
    entry = records.find_sku(redis, shop_id, sku)
    listing = None
    if entry is None:
        listing = _search(client, sku)
        if listing is None:
            raise Refused(f"no Etsy listing of shop {shop_id} has SKU {sku!r} "
                          "(publish the product with ListingReady first)")
        listing_id = mapping.listing_id(listing)
        product_id = records.listing_owner(redis, shop_id, listing_id) or external_product_id(listing_id)
    else:
        listing_id, product_id = int(entry["listing_id"]), entry.get("product_id") or external_product_id(
            entry["listing_id"])
    with locks.held(redis, keys.listing_lock(shop_id, product_id), wait_seconds=lock_wait_seconds):
        stale = freshness.stale_stock(redis, shop_id, sku, event_time)
        if stale:
            raise Refused(stale)
        link = records.load_listing(redis, shop_id, product_id)
        if not link.linked:  # a listing etsyflow did not make: keep a record of our own
            listing = listing or client.get_listing(listing_id)
            link.status, link.listing_id = records.LINKED, listing_id
            link.state = listing.get("state")
            link.desired_state = "active" if listing.get("state") == "active" else None
            link.readiness_state_id = listing.get("readiness_state_id")
            records.save_listing(redis, link)
        if link.held is not None:
            base = link.held
            etsy_has = link.inventory
        else:
            base = mapping.inventory_from_etsy(client.get_listing_inventory(link.listing_id) or {})
            etsy_has = base
        if inv.find_sku(base, sku) is None:
            records.index_skus(redis, shop_id, link.listing_id, product_id, [], [sku])
            raise Refused(f"SKU {sku!r} is no longer on Etsy listing {link.listing_id}; "
                          "publish the product again with ListingReady")
        if any(not o.get("readiness_state_id") for p in base["products"] for o in p["offerings"]):
            readiness = link.readiness_state_id or (client.get_listing(link.listing_id) or {}).get(
                "readiness_state_id")
            base = inv.with_readiness(base, readiness)
        new = inv.with_quantity(base, sku, quantity)
        changed = _write(new, etsy_has, link, client=client, redis=redis)
        freshness.record_stock(redis, shop_id, [sku], event_time)
        records.index_skus(redis, shop_id, link.listing_id, product_id, inv.skus(new), [])
        return Outcome(link.listing_id, None if product_id.startswith("@") else product_id,
                       link.state or "draft", changed)


def _write(new: dict, etsy_has: dict | None, link, *, client, redis) -> bool:
    if inv.in_stock(new) == 0:
        changed = link.held is None or inv.comparable(link.held) != inv.comparable(new)
        link.held = new
        if link.state == "active":
            answer = client.update_listing(link.listing_id, {"state": "inactive"}) or {}
            link.state = answer.get("state") or "inactive"
            link.stock_inactive = True
            changed = True
        elif link.state == "draft" and link.desired_state == "active":
            link.stock_inactive = True
        records.save_listing(redis, link, "held", "state", "stock_inactive")
        return changed
    changed = False
    if etsy_has is None or not inv.same(etsy_has, new) or link.held is not None:
        client.update_listing_inventory(link.listing_id, new)
        changed = True
    link.inventory, link.held = new, None
    if link.stock_inactive and link.desired_state == "active" and link.state in ("inactive", "draft"):
        if link.state == "inactive" or link.images:
            answer = client.update_listing(link.listing_id, {"state": "active"}) or {}
            link.state = answer.get("state") or "active"
            changed = True
        link.stock_inactive = False
    records.save_listing(redis, link, "inventory", "held", "state", "stock_inactive")
    return changed
