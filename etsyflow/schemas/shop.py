"""Etsy's ``Shop`` and ``ShopReturnPolicy``, read and written in etsyflow's terms."""

from __future__ import annotations

#: The return policy made for a shop outside the EU that has none (Etsy requires one there).
DEFAULT_RETURN_POLICY = {"accepts_returns": True, "accepts_exchanges": True, "return_deadline": 30}


def shop_info(shop: dict) -> dict:
    """``{"country": ISO code, "currency": ISO code}`` of an Etsy ``Shop``."""
    return {"country": shop.get("shop_location_country_iso") or shop.get("shipping_from_country_iso"),
            "currency": shop.get("currency_code")}


def return_policy_ids(answer: dict) -> list[int]:
    """The ids of a ``getShopReturnPolicies`` answer, lowest first."""
    return sorted(int(p["return_policy_id"]) for p in (answer or {}).get("results") or [])


def return_policy_id(policy: dict) -> int:
    return int(policy["return_policy_id"])
