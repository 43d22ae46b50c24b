"""Never an older state over a newer one: per SKU (stock) and per product (listing).

Events can arrive out of order: a message parked while its shop was
disconnected replays after newer ones, a retry runs after a later event for
the same SKU, a redelivery comes late. Each write records the time of the
event it applied (the CloudEvents ``time``, set by the producer, or by the
bridge when the producer gave none); an event older than what was applied is
not written — its sender is told it was superseded.

Checked and recorded under the product's lock (see :mod:`.locks`), so the
read-compare-write of one SKU or product never interleaves.

=============================================  ======  ====================================
key                                            type    holds
=============================================  ======  ====================================
``etsyflow:applied:sku:<shop>``                HASH    sku → time of the StockChanged or
                                                       ListingReady whose quantity Etsy has
``etsyflow:applied:product:<shop>``            HASH    product_id → time of the ListingReady
                                                       Etsy has
=============================================  ======  ====================================

Times are compared as epoch seconds; an event without a readable time is
never refused (nothing to compare).
"""

from __future__ import annotations

from datetime import datetime, timezone

P = "etsyflow:applied"


def epoch(event_time: str | None) -> float | None:
    """Epoch seconds of an RFC 3339 time, or None when absent or unreadable."""
    if not event_time:
        return None
    try:
        moment = datetime.fromisoformat(str(event_time).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _sku_key(shop_id) -> str:
    return f"{P}:sku:{int(shop_id)}"


def _product_key(shop_id) -> str:
    return f"{P}:product:{int(shop_id)}"


def _applied(redis, key: str, field: str) -> float | None:
    raw = redis.hget(key, field)
    return None if raw is None else float(raw)


def stale_stock(redis, shop_id, sku: str, event_time: str | None) -> str | None:
    """Why a StockChanged of ``event_time`` must not be written for ``sku`` (None: write it)."""
    at = epoch(event_time)
    applied = _applied(redis, _sku_key(shop_id), sku)
    if at is None or applied is None or at >= applied:
        return None
    return (f"superseded: a newer quantity of SKU {sku!r} (sent {_iso(applied)}) is already on Etsy; "
            f"this StockChanged was sent {_iso(at)}")


def stale_product(redis, shop_id, product_id: str, event_time: str | None) -> str | None:
    """Why a ListingReady of ``event_time`` must not be written for ``product_id`` (None: write it)."""
    at = epoch(event_time)
    applied = _applied(redis, _product_key(shop_id), product_id)
    if at is None or applied is None or at >= applied:
        return None
    return (f"superseded: a newer ListingReady of product {product_id!r} (sent {_iso(applied)}) is already "
            f"on Etsy; this one was sent {_iso(at)}")


# Set each field to ARGV[1] unless it already holds a later time: atomic, so two
# recorders never move a time back, and one round trip for all of a product's SKUs.
_RECORD_NEWER = """
local at = tonumber(ARGV[1])
for i = 2, #ARGV do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if (not current) or tonumber(current) < at then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
  end
end
return 1
"""


def _record(redis, key: str, fields, event_time: str | None) -> None:
    at = epoch(event_time)
    fields = list(fields)
    if at is None or not fields:
        return
    redis.eval(_RECORD_NEWER, 1, key, repr(at), *fields)


def record_stock(redis, shop_id, skus, event_time: str | None) -> None:
    """Note that Etsy holds the quantities of ``skus`` as of ``event_time`` (never moves back)."""
    _record(redis, _sku_key(shop_id), skus, event_time)


def record_product(redis, shop_id, product_id: str, event_time: str | None) -> None:
    """Note that Etsy holds ``product_id`` as of ``event_time`` (never moves back)."""
    _record(redis, _product_key(shop_id), [product_id], event_time)


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")
