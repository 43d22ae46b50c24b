"""Parking: messages kept for a shop whose tokens are revoked, replayed when it reconnects.

    etsyflow:parked:<shop_id>   LIST  JSON {event_type, envelope, parked_at (epoch s)}, oldest first

Bounded (settings ``PARKED_MAX_PER_SHOP``, ``PARKED_MAX_AGE_SECONDS``): a
message parked longer than the age bound is answered with its type's
rejection instead of waiting on (checked whenever the shop's parking is
touched: a new message parked, the replay on reconnection); when a shop
already has the maximum waiting, a new one is answered with its rejection
at once. Nothing is dropped silently, and made-up shop ids cannot grow Redis
without bound (a shop never connected is not parked at all: see
:class:`~etsyflow.etsy.errors.ShopNotConnected`).
"""

from __future__ import annotations

import hashlib
import json
import time

from ..config import get_settings
from ..config.logging import get_logger
from ..messages import publish
from ..schemas import Invalid, validate_event
from ..schemas.rejections import refusal
from ..state import get_redis

log = get_logger("etsyflow.workers")


def _parked_key(shop_id) -> str:
    return f"etsyflow:parked:{shop_id}"


def park(shop_id, event_type: str, envelope: dict) -> bool:
    """Keep a message for a shop whose tokens are revoked; returns True when it was parked,
    False when it was answered with its rejection instead (over ``PARKED_MAX_PER_SHOP``)."""
    settings = get_settings()
    redis = get_redis()
    expire_parked(shop_id)
    waiting = int(redis.llen(_parked_key(shop_id)))
    if waiting >= settings.parked_max_per_shop:
        _answer(shop_id, envelope, f"shop {shop_id} must be reconnected and already has {waiting} events "
                                   f"waiting (PARKED_MAX_PER_SHOP={settings.parked_max_per_shop}); "
                                   "send it again once it is")
        return False
    redis.rpush(_parked_key(shop_id), json.dumps({"event_type": event_type, "envelope": envelope,
                                                   "parked_at": time.time()}))
    return True


def parked_count(shop_id) -> int:
    return int(get_redis().llen(_parked_key(shop_id)))


def oldest_parked_at(shop_id) -> float | None:
    """When the oldest message parked for ``shop_id`` was parked (epoch seconds), or None."""
    raw = get_redis().lindex(_parked_key(shop_id), 0)
    return None if raw is None else float(json.loads(raw).get("parked_at") or 0) or None


def expire_parked(shop_id, *, now: float | None = None) -> int:
    """Answer with their rejection the messages parked longer than ``PARKED_MAX_AGE_SECONDS``;
    returns how many."""
    max_age = get_settings().parked_max_age_seconds
    now = time.time() if now is None else now
    redis = get_redis()
    expired = 0
    while True:
        raw = redis.lindex(_parked_key(shop_id), 0)
        if raw is None:
            return expired
        item = json.loads(raw)
        if now - float(item.get("parked_at") or 0) <= max_age:
            return expired
        _answer(shop_id, item["envelope"], f"shop {shop_id} was not reconnected within {max_age / 86400:g} days "
                                           "(PARKED_MAX_AGE_SECONDS); send the event again once it is")
        redis.lrem(_parked_key(shop_id), 1, raw)  # after the answer: a crash in between answers twice, same id
        expired += 1


def _answer(shop_id, envelope: dict, reason: str) -> None:
    try:
        event, data = validate_event(envelope)
    except Invalid:  # it was valid when parked
        return
    publish(refusal(event, data, reason, key=f"parked:{hashlib.sha256(reason.encode()).hexdigest()[:16]}"))
    log.warning("parked event answered with its rejection", parked_shop_id=shop_id, reason=reason)


def take_parked(shop_id, send) -> int:
    """Hand every message parked for ``shop_id`` to ``send(event_type, envelope)``; returns how many.

    Messages past the age bound are answered with their rejection instead. A
    message whose ``send`` raises is put back first (nothing lost) and the error re-raised.
    """
    expire_parked(shop_id)
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
