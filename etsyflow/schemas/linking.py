"""Etsy listings a seller made before etsyflow, seen from both sides.

An Etsy ``ShopListing`` (read with ``includes=Inventory,Images``) → the
SKUs it sells, the fields etsyflow keeps in step (the names of
:func:`etsyflow.schemas.listings.listing_fields`), and the ``data`` of the
follow-ups that announce it (``ListingDiscovered``, ``ListingLinked``,
``ListingUnpublished``).
"""

from __future__ import annotations

from decimal import Decimal

from ..etsy.money import format_decimal, money_to_decimal
from .listings import inventory_from_etsy, listing_id, listing_url

#: The kept fields (see ``listing_fields``) and how Etsy's ``ShopListing`` spells them (the same).
KEPT_FIELDS = ("title", "description", "taxonomy_id", "who_made", "when_made", "is_supply", "tags",
               "materials", "shipping_profile_id", "return_policy_id")


def state(listing: dict) -> str | None:
    """Etsy's state of the listing (``active``, ``draft``, ``inactive``, ``sold_out``, ``expired``)."""
    return listing.get("state")


def readiness_state_id(listing: dict) -> int | None:
    """The listing's processing profile, when Etsy names one."""
    value = listing.get("readiness_state_id")
    return int(value) if value else None


def page(answer: dict) -> tuple[list[dict], int | None]:
    """A ``getListingsByShop`` page: (results, count of the whole collection or None)."""
    answer = answer or {}
    count = answer.get("count")
    return answer.get("results") or [], count if isinstance(count, int) else None


def with_inventory(listing: dict, inventory_answer: dict) -> dict:
    """A ``getListing`` answer with its ``getListingInventory`` answer attached, as
    ``getListingsByShop`` with ``includes=Inventory`` would have returned it."""
    return {**(listing or {}), "inventory": inventory_answer or {}}


def inventory(listing: dict) -> dict:
    """The listing's inventory matrix (etsyflow's shape); empty when Etsy sent none."""
    return inventory_from_etsy(listing.get("inventory") or {})


def skus(listing: dict) -> list[str]:
    """Every SKU of the listing's inventory, in product order, without blanks or repeats."""
    out: list[str] = []
    for product in (listing.get("inventory") or {}).get("products") or []:
        sku = (product.get("sku") or "").strip()
        if sku and not product.get("is_deleted") and sku not in out:
            out.append(sku)
    return out


def image_ids(listing: dict) -> list[int]:
    """The listing's image ids in rank order (from ``includes=Images``)."""
    images = sorted(listing.get("images") or [], key=lambda i: i.get("rank") or 0)
    return [int(i["listing_image_id"]) for i in images if i.get("listing_image_id")]


def kept_field(listing: dict, name: str):
    """Etsy's value of one kept field, comparable with ``listing_fields``' (None when absent)."""
    value = listing.get(name)
    if value is None:
        return None
    if name in ("taxonomy_id", "shipping_profile_id", "return_policy_id"):
        return int(value)
    if name in ("tags", "materials"):
        return list(value)
    if name == "is_supply":
        return bool(value)
    return value


def kept_fields(listing: dict) -> dict:
    """The kept fields as Etsy holds them now (absent ones left out)."""
    out = {}
    for name in KEPT_FIELDS:
        value = kept_field(listing, name)
        if value is not None:
            out[name] = value
    return out


def _price(listing: dict) -> str | None:
    price = listing.get("price")
    if isinstance(price, dict):
        value = money_to_decimal(price)
    elif price is not None:
        value = Decimal(str(price))
    else:
        return None
    return format_decimal(value) if value is not None else None


def currency(listing: dict) -> str | None:
    price = listing.get("price")
    return price.get("currency_code") if isinstance(price, dict) else None


def discovered_data(shop_id: int, listing: dict) -> dict:
    """``ListingDiscovered`` data: an Etsy listing no upstream product has."""
    return {
        "shop_id": int(shop_id),
        "listing_id": listing_id(listing),
        "state": state(listing),
        "title": listing.get("title"),
        "url": listing.get("url") or listing_url(listing_id(listing)),
        "skus": skus(listing),
        "price": _price(listing),
        "currency": currency(listing),
        "quantity": int(listing.get("quantity") or 0),
    }


def linked_data(shop_id: int, product_id: str, listing_id: int, matched: list[str]) -> dict:
    """``ListingLinked`` data. ``matched_by`` names the key (``sku``); ``skus`` the values that matched."""
    return {"shop_id": int(shop_id), "product_id": product_id, "listing_id": int(listing_id),
            "matched_by": "sku", "skus": sorted(matched)}


def ambiguous_data(shop_id: int, product_id: str, reason: str, candidates: list[int]) -> dict:
    """``ListingRejected`` data for a product that matches more than one way."""
    return {"shop_id": int(shop_id), "product_id": product_id, "reason": reason,
            "candidates": sorted(int(c) for c in candidates)}


def unpublished_data(shop_id: int, product_id: str, listing_id: int, state: str) -> dict:
    """``ListingUnpublished`` data; ``state`` is Etsy's (``inactive``, ``draft``…) or ``deleted``."""
    return {"shop_id": int(shop_id), "product_id": product_id, "listing_id": int(listing_id), "state": state}


def product_skus(data: dict) -> list[str]:
    """A ``ListingReady``'s SKUs: its own and its variations'."""
    out = [data["sku"]] if data.get("sku") else []
    for variation in data.get("variations") or []:
        if variation.get("sku") and variation["sku"] not in out:
            out.append(variation["sku"])
    return out
