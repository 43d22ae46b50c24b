"""Dramatiq options of every actor, in one place.

Units follow Dramatiq: ``min_backoff``, ``max_backoff``, ``time_limit`` and
``max_age`` are milliseconds.
"""

from __future__ import annotations

from ..messages.types import EventType

SECOND = 1000
MINUTE = 60 * SECOND

# Transient failures (Etsy 5xx, timeouts, lost connections) are retried with
# exponential backoff from 2 s up to 10 min, 12 times (about an hour of
# trying) before the message is dead-lettered for an operator to replay.
_DEFAULT = {"max_retries": 12, "min_backoff": 2 * SECOND, "max_backoff": 10 * MINUTE, "time_limit": 5 * MINUTE}

ACTOR_OPTIONS: dict[str, dict] = {
    EventType.DELIVERY_TEMPLATE_READY: {**_DEFAULT, "queue_name": "etsyflow.listings"},
    # Up to 10 image downloads and uploads: allow 15 minutes.
    EventType.LISTING_READY: {**_DEFAULT, "queue_name": "etsyflow.listings", "time_limit": 15 * MINUTE},
    EventType.STOCK_CHANGED: {**_DEFAULT, "queue_name": "etsyflow.stock"},
    # Same queue as ListingReady: a removal never overtakes the publish it follows.
    EventType.LISTING_REMOVED: {**_DEFAULT, "queue_name": "etsyflow.listings"},
    # Reads every listing of a shop (about 104 calls for 10,000 listings): 15 minutes.
    EventType.SHOP_LISTINGS_SYNC: {**_DEFAULT, "queue_name": "etsyflow.listings", "time_limit": 15 * MINUTE},
    # A tick is worth nothing once the next one is due: no long retries, and
    # ticks older than 10 minutes are dropped by AgeLimit (the next comes).
    EventType.ORDERS_POLL_TICK: {"queue_name": "etsyflow.orders", "max_retries": 3, "min_backoff": 5 * SECOND,
                                 "max_backoff": MINUTE, "time_limit": 10 * MINUTE, "max_age": 10 * MINUTE},
    EventType.ORDER_SHIPPED: {**_DEFAULT, "queue_name": "etsyflow.fulfilment"},
}

QUEUES = sorted({o["queue_name"] for o in ACTOR_OPTIONS.values()})


def actor_name(event_type: str) -> str:
    """Actor names are stable: they are stored in queued messages."""
    return f"on_{event_type}"
