"""Parking: messages kept for a shop whose tokens are revoked, replayed when it reconnects.

    etsyflow:parked:<shop_id>   LIST  JSON {event_type, envelope}, oldest first
"""

from __future__ import annotations

import json

from ..state import get_redis


def _parked_key(shop_id) -> str:
    return f"etsyflow:parked:{shop_id}"


def park(shop_id, event_type: str, envelope: dict) -> None:
    """Keep a message for a shop whose tokens are revoked (nothing is lost)."""
    get_redis().rpush(_parked_key(shop_id), json.dumps({"event_type": event_type, "envelope": envelope}))


def parked_count(shop_id) -> int:
    return int(get_redis().llen(_parked_key(shop_id)))


def take_parked(shop_id, send) -> int:
    """Hand every message parked for ``shop_id`` to ``send(event_type, envelope)``; returns how many.

    A message whose ``send`` raises is put back first (nothing lost) and the error re-raised.
    """
    redis = get_redis()
    count = 0
    while True:
        raw = redis.lpop(_parked_key(shop_id))
        if raw is None:
            return count
        item = json.loads(raw)
        try:
            send(item["event_type"], item["envelope"])
        except Exception:
            redis.lpush(_parked_key(shop_id), raw)  # put it back: nothing lost
            raise
        count += 1


def has_parked(shop_id) -> bool:
    return bool(get_redis().exists(_parked_key(shop_id)))
