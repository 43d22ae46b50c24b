"""Shop-level things a listing needs: the shop's country and a return policy where Etsy requires one.

Etsy requires a ``return_policy_id`` on active physical listings except for
shops based in the EU. etsyflow uses one of the shop's own return policies
(the lowest id); a shop that has none gets one created: returns and
exchanges accepted within 30 days (:data:`DEFAULT_RETURN_POLICY`). Both
answers are cached in Redis for :data:`TTL_SECONDS`.
"""

from __future__ import annotations

from . import keys, locks

TTL_SECONDS = 24 * 3600
EU = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
DEFAULT_RETURN_POLICY = {"accepts_returns": True, "accepts_exchanges": True, "return_deadline": 30}


def _s(value):
    return value.decode() if isinstance(value, bytes) else value


def country(client, redis, shop_id: int) -> str | None:
    """The shop's country (``shop_location_country_iso``), cached."""
    key = keys.shop_country(shop_id)
    cached = _s(redis.get(key))
    if cached is not None:
        return cached or None
    shop = client.get_shop() or {}
    value = shop.get("shop_location_country_iso") or shop.get("shipping_from_country_iso") or ""
    redis.set(key, value, ex=TTL_SECONDS)
    return value or None


def needs_return_policy(client, redis, shop_id: int) -> bool:
    return country(client, redis, shop_id) not in EU


def return_policy_id(client, once, redis, shop_id: int) -> int | None:
    """A return policy for new listings where Etsy requires one, else None."""
    if not needs_return_policy(client, redis, shop_id):
        return None
    key = keys.return_policy(shop_id)
    cached = _s(redis.get(key))
    if cached:
        return int(cached)
    with locks.held(redis, keys.shop_setup_lock(shop_id), lease_seconds=120, wait_seconds=60):
        cached = _s(redis.get(key))
        if cached:
            return int(cached)
        answer = client.get_shop_return_policies() or {}
        policies = sorted(answer.get("results") or [], key=lambda p: int(p["return_policy_id"]))
        if policies:
            policy_id = int(policies[0]["return_policy_id"])
        else:
            policy_id = int(once.create_shop_return_policy(DEFAULT_RETURN_POLICY)["return_policy_id"])
        redis.set(key, policy_id, ex=TTL_SECONDS)
        return policy_id
