"""The inventory matrix: one whole object, always written whole.

Etsy's ``updateListingInventory`` replaces every product of a listing
(etsy/open-api#134, etsy/open-api#159, etsy/open-api#168): a partial matrix wipes the variations that are missing
(etsy/open-api#337). So every change here takes a whole matrix and returns a whole
matrix, and the ``*_on_property`` lists are derived from the products, in
``property_values`` order (etsy/open-api#375).

The matrix shape is :func:`etsyflow.schemas.listings.inventory_from_etsy`'s:
``{"products": [{sku, property_values, offerings}], "price_on_property",
"quantity_on_property", "sku_on_property"}`` with prices as decimal strings.
"""

from __future__ import annotations

import copy
from typing import Callable


def _property_key(product: dict, property_id: int) -> tuple:
    for pv in product["property_values"]:
        if int(pv["property_id"]) == int(property_id):
            return tuple(v.lower() for v in pv.get("values") or []) or tuple(pv.get("value_ids") or [])
    return ()


def on_property(products: list[dict], property_ids: list[int], pick: Callable[[dict], object]) -> list[int]:
    """The properties that ``pick`` (price, quantity or SKU) varies on, in ``property_values`` order.

    ``[]`` when every product has the same value; ``[p]`` when one property
    alone decides it; every property otherwise.
    """
    values = [pick(p) for p in products]
    if len(set(values)) <= 1:
        return []
    for pid in property_ids:
        seen: dict[tuple, object] = {}
        if all(seen.setdefault(_property_key(p, pid), v) == v for p, v in zip(products, values)):
            return [int(pid)]
    return [int(p) for p in property_ids]


def _price(product: dict):
    return product["offerings"][0]["price"] if product["offerings"] else None


def _quantity(product: dict):
    return product["offerings"][0]["quantity"] if product["offerings"] else None


def matrix(products: list[dict], property_ids: list[int]) -> dict:
    """Products → the whole matrix with the three ``*_on_property`` lists derived."""
    return {
        "products": products,
        "price_on_property": on_property(products, property_ids, _price),
        "quantity_on_property": on_property(products, property_ids, _quantity),
        "sku_on_property": on_property(products, property_ids, lambda p: p.get("sku") or ""),
    }


def property_ids_of(inventory: dict) -> list[int]:
    """The property ids of a matrix, in ``property_values`` order."""
    products = inventory.get("products") or []
    return [int(pv["property_id"]) for pv in products[0]["property_values"]] if products else []


def comparable(inventory: dict, *, ignore_readiness: bool = False) -> tuple:
    """A value equal for two matrices that mean the same on Etsy.

    Product order, value ids Etsy assigns to free-text values, and property
    display names do not matter; values compare case-insensitively.
    """
    products = []
    for product in inventory.get("products") or []:
        pvs = tuple(sorted((int(pv["property_id"]), tuple(v.lower() for v in pv.get("values") or []),
                            pv.get("scale_id")) for pv in product["property_values"]))
        offers = tuple(sorted((str(o["price"]), int(o["quantity"]), bool(o["is_enabled"]),
                               None if ignore_readiness else o.get("readiness_state_id"))
                              for o in product["offerings"]))
        products.append((product.get("sku") or "", pvs, offers))
    lists = tuple(tuple(sorted(int(v) for v in inventory.get(k) or []))
                  for k in ("price_on_property", "quantity_on_property", "sku_on_property"))
    return tuple(sorted(products)), lists


def same(current: dict, desired: dict) -> bool:
    """Does Etsy already hold ``desired``? (readiness ignored where Etsy did not return it)"""
    blind = any(o.get("readiness_state_id") is None
                for p in current.get("products") or [] for o in p["offerings"])
    return comparable(current, ignore_readiness=blind) == comparable(desired, ignore_readiness=blind)


def skus(inventory: dict) -> list[str]:
    return [p["sku"] for p in inventory.get("products") or [] if p.get("sku")]


def find_sku(inventory: dict, sku: str) -> dict | None:
    for product in inventory.get("products") or []:
        if (product.get("sku") or "") == sku:
            return product
    return None


def with_quantity(inventory: dict, sku: str, quantity: int) -> dict:
    """A copy of the whole matrix with ``sku``'s quantity set; every other product untouched.

    A quantity of 0 disables the offering (Etsy refuses an enabled offering
    with nothing in stock); a positive quantity enables it again. The
    quantity list is re-derived: a matrix whose quantities were all equal
    gains ``quantity_on_property`` when one changes.
    """
    out = copy.deepcopy(inventory)
    product = find_sku(out, sku)
    if product is None:
        raise KeyError(sku)
    for o in product["offerings"]:
        o["quantity"] = int(quantity)
        o["is_enabled"] = quantity > 0
    ids = property_ids_of(out)
    out["quantity_on_property"] = on_property(out["products"], ids, _quantity)
    return out


def with_readiness(inventory: dict, readiness_state_id: int | None) -> dict:
    """A copy where offerings without a processing profile get ``readiness_state_id``
    (Etsy returns none outside shop-scoped reads, yet requires one on write)."""
    out = copy.deepcopy(inventory)
    if readiness_state_id:
        for product in out.get("products") or []:
            for o in product["offerings"]:
                if not o.get("readiness_state_id"):
                    o["readiness_state_id"] = int(readiness_state_id)
    return out


def in_stock(inventory: dict) -> int:
    """Units buyers can buy (enabled offerings)."""
    return sum(int(o["quantity"]) for p in inventory.get("products") or [] for o in p["offerings"]
               if o.get("is_enabled"))

