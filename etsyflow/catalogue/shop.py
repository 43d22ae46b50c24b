"""Shop-level things a listing needs: the shop's currency and country, and a return policy.

Etsy requires a ``return_policy_id`` on active physical listings except for
shops based in the EU. etsyflow gives every new listing one of the shop's
own return policies (the lowest id; Etsy accepts one from EU shops too). A
shop that has none gets one created — returns and exchanges accepted within
30 days (:data:`etsyflow.schemas.shop.DEFAULT_RETURN_POLICY`) — unless it is based in the EU
(``getShop``), where Etsy does not require one. Answers are cached in Redis
for :data:`TTL_SECONDS`, filled by one worker at a time.
"""

from __future__ import annotations

import json

from ..schemas import shop as mapping
from . import keys, locks

TTL_SECONDS = 24 * 3600
EU = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())


def _s(value):
    return value.decode() if isinstance(value, bytes) else value


def info(client, redis, shop_id: int) -> dict:
    """``{"country": ..., "currency": ...}`` of the shop (one ``getShop``, cached)."""
    def fill() -> str:
        return json.dumps(mapping.shop_info(client.get_shop() or {}))

    return json.loads(single_flight(redis, keys.shop_info(shop_id), fill, ttl_seconds=TTL_SECONDS))


def country(client, redis, shop_id: int) -> str | None:
    return info(client, redis, shop_id).get("country")


def currency(client, redis, shop_id: int) -> str | None:
    return info(client, redis, shop_id).get("currency")


def return_policy_id(client, once, redis, shop_id: int) -> int | None:
    """The return policy new listings get: the shop's own (lowest id); a new one where Etsy
    requires one and the shop has none; None for an EU shop without one. Cached."""
    key = keys.return_policy(shop_id)

    def fill() -> str:
        policies = mapping.return_policy_ids(client.get_shop_return_policies() or {})
        if policies:
            return str(policies[0])
        if country(client, redis, shop_id) in EU:
            return ""  # Etsy does not require one: do not make one for the seller
        return str(mapping.return_policy_id(once.create_shop_return_policy(mapping.DEFAULT_RETURN_POLICY)))

    value = single_flight(redis, key, fill, ttl_seconds=TTL_SECONDS)
    return int(value) if value else None


def single_flight(redis, key: str, fill, *, ttl_seconds: float, wait_seconds: float = 60.0) -> str:
    """``redis[key]``, or ``fill()`` stored there for ``ttl_seconds`` — by one worker at a
    time, so many listings starting together cost Etsy one lookup, not one each."""
    cached = _s(redis.get(key))
    if cached is not None:
        return cached
    with locks.held(redis, f"{key}:fill", lease_seconds=120, wait_seconds=wait_seconds):
        cached = _s(redis.get(key))
        if cached is not None:
            return cached
        value = fill()
        redis.set(key, value, ex=int(ttl_seconds))
        return value
