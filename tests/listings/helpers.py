"""Shared data and calls of the catalogue integration tests."""

from __future__ import annotations

import copy

TEMPLATE = {
    "template_id": "std-us", "title": "Standard shipping", "origin_country_iso": "US",
    "origin_postal_code": "10001", "processing_min_days": 1, "processing_max_days": 3,
    "destinations": [
        {"country_iso": "US", "primary_cost": "4.50", "secondary_cost": "1.00", "min_delivery_days": 2,
         "max_delivery_days": 5},
        {"region": "eu", "primary_cost": "12.00", "secondary_cost": "3.00", "min_delivery_days": 5,
         "max_delivery_days": 12},
        {"country_iso": "CA", "primary_cost": "9.00", "secondary_cost": "2.00", "min_delivery_days": 4,
         "max_delivery_days": 9},
    ],
}


def template(cat, **more) -> dict:
    return {**copy.deepcopy(TEMPLATE), "shop_id": cat.shop_id, **more}


def synced_template(cat, **more) -> dict:
    answer = cat.send("DeliveryTemplateReady", template(cat, **more), ("DeliveryTemplateSynced", "EventRejected"))
    assert answer["type"] == "DeliveryTemplateSynced", answer
    return answer["data"]


def product(cat, product_id="P-100", images=1, **more) -> dict:
    data = {
        "shop_id": cat.shop_id, "product_id": product_id, "sku": f"{product_id}-SKU", "title": "Linen summer dress",
        "description": "A light linen dress.", "price": "49.00", "rrp": "59.00", "currency": "USD", "quantity": 5,
        "taxonomy_id": 374, "who_made": "i_did", "when_made": "2020_2026", "delivery_template_id": "std-us",
        "images": [{"url": cat.images.image(i + 1), "alt_text": f"view {i + 1}"} for i in range(images)],
        "tags": ["linen", "summer dress"], "materials": ["linen"], "state": "active",
    }
    data.update(more)
    return data


def publish_listing(cat, data, timeout=60.0) -> dict:
    return cat.send("ListingReady", data, ("ListingPublished", "ListingRejected", "EventRejected"), timeout=timeout)


def published(cat, data, timeout=60.0) -> dict:
    answer = publish_listing(cat, data, timeout)
    assert answer["type"] == "ListingPublished", answer
    return answer["data"]


def rejected(cat, data) -> str:
    answer = publish_listing(cat, data)
    assert answer["type"] == "ListingRejected", answer
    return answer["data"]["reason"]


def variations(prices=("20.00", "20.00", "25.00", "27.50"), quantities=(3, 0, 7, 2)):
    combos = [("Blue", "S"), ("Blue", "M"), ("Red", "S"), ("Red", "M")]
    return [{"sku": f"DR-{c[0][:2].upper()}-{c[1]}", "options": {"Color": c[0], "Size": c[1]}, "price": p,
             "quantity": q} for c, p, q in zip(combos, prices, quantities)]


def offerings_by_sku(listing) -> dict:
    out = {}
    for p in listing["inventory"]["products"]:
        o = p["offerings"][0]
        out[p["sku"]] = (o["price"], o["quantity"], o["is_enabled"])
    return out


def stock(cat, sku, quantity) -> dict:
    return cat.send("StockChanged", {"shop_id": cat.shop_id, "sku": sku, "quantity": quantity},
                    ("StockUpdated", "StockRejected", "EventRejected"))
