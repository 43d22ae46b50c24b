"""Buyer- and Etsy-side changes to receipts, for the admin API.

``create`` places an order as a buyer would; ``act`` changes one the way Etsy
does — and, like Etsy, refunds and ship-date edits leave
``updated_timestamp`` alone (#513, #339, #232).
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation

from . import render, webhooks
from .errors import ApiError
from .forms import to_cents
from .ops_listings import sync_from_inventory
from .ops_receipts import add_shipment, parse_ship_date

MAX_BULK = 20000
PERSONALIZATION_PROPERTY = 54


def _bad(message):
    return ApiError(400, message)


def _money(body, name, default="0"):
    raw = body.get(name, default)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise _bad(f"{name} must be a decimal amount such as \"4.99\"") from None
    if value < 0:
        raise _bad(f"{name} must not be negative")
    return to_cents(value)


def _int(body, name, default=None, minimum=None):
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{name} must be an integer")
    if minimum is not None and value < minimum:
        raise _bad(f"{name} must be at least {minimum}")
    return value


def _find_product(listing, item):
    products = [p for p in listing["inventory"]["products"] if not p.get("is_deleted")]
    if item.get("product_id") is not None:
        for p in products:
            if p["product_id"] == item["product_id"]:
                return p
        raise _bad(f"listing {listing['listing_id']} has no product {item['product_id']}")
    if item.get("sku"):
        for p in products:
            if p["sku"] == item["sku"]:
                return p
        raise _bad(f"listing {listing['listing_id']} has no product with sku {item['sku']!r}")
    return products[0]


def _transaction(state, shop, item, adjust_stock, currency):
    if not isinstance(item, dict):
        raise _bad("each item must be an object")
    quantity = _int(item, "quantity", 1, minimum=1)
    listing = None
    if item.get("listing_id") is not None:
        listing = state.listings.get(_int(item, "listing_id"))
        if listing is None or listing["shop_id"] != shop["shop_id"]:
            raise _bad(f"listing {item.get('listing_id')} is not a listing of shop {shop['shop_id']}")
    elif item.get("sku"):
        for candidate in state.listings.values():
            if candidate["shop_id"] == shop["shop_id"] and any(
                    p["sku"] == item["sku"] for p in candidate["inventory"]["products"]):
                listing = candidate
                break
        if listing is None and not item.get("free"):
            raise _bad(f"no listing of shop {shop['shop_id']} has sku {item['sku']!r} (give \"free\": true "
                       "for an item without a listing)")
    variations, product_data = [], []
    if listing is not None:
        product = _find_product(listing, item)
        offering = product["offerings"][0]
        price = _money(item, "price") if "price" in item else offering["price"]
        for pv in product["property_values"]:
            variations.append({"property_id": pv["property_id"],
                               "value_id": pv["value_ids"][0] if pv["value_ids"] else None,
                               "formatted_name": pv.get("property_name") or "Option",
                               "formatted_value": ", ".join(pv["values"]), "question_id": None})
            product_data.append(dict(pv))
        if item.get("product_data_empty"):  # Etsy sometimes sends it empty (#476)
            product_data = []
        if adjust_stock:
            offering["quantity"] = max(0, offering["quantity"] - quantity)
            sync_from_inventory(listing)
            listing["updated"] = int(time.time())
        title = item.get("title") or listing["title"]
        fields = {"listing_id": listing["listing_id"], "product_id": product["product_id"],
                  "sku": product["sku"] or None, "shipping_profile_id": listing["shipping_profile_id"],
                  "listing_image_id": listing["image_ids"][0] if listing["image_ids"] else None}
        readiness = state.readiness.get(offering.get("readiness_state_id") or listing["readiness_state_id"])
    else:
        price = _money(item, "price", "10.00")
        title = item.get("title") or "Sandbox item"
        fields = {"listing_id": None, "product_id": None, "sku": item.get("sku"), "shipping_profile_id": None,
                  "listing_image_id": None}
        readiness = None
    if item.get("personalization"):
        variations.append({"property_id": PERSONALIZATION_PROPERTY, "value_id": None,
                           "formatted_name": "Personalization", "formatted_value": str(item["personalization"]),
                           "question_id": None})
    now = int(time.time())
    return {"transaction_id": state.next_id("transaction"), "title": title,
            "description": item.get("description", title), "quantity": quantity, "price": price,
            "shipping_cost": 0, "variations": variations, "product_data": product_data,
            "min_processing_days": readiness["min_processing_days"] if readiness else None,
            "max_processing_days": readiness["max_processing_days"] if readiness else None,
            "expected_ship_date": now + 86400 * (readiness["max_processing_days"] if readiness else 3),
            "shipped_timestamp": None, **fields}


def _build(state, shop, body, *, now=None):
    """One receipt from an admin body (state.lock held)."""
    now = int(now if now is not None else time.time())
    currency = body.get("currency", shop["currency_code"])
    items = body.get("items") or [{"title": "Sandbox item", "price": "10.00", "quantity": 1}]
    if not isinstance(items, list):
        raise _bad("items must be a list")
    adjust = bool(body.get("adjust_stock", True))
    transactions = [_transaction(state, shop, item, adjust, currency) for item in items]
    address = dict(body.get("address") or {})
    for key in ("name", "first_line", "second_line", "city", "state", "zip", "country_iso"):
        if key in body and key not in address:
            address[key] = body[key]
    name = address.get("name") or body.get("buyer_name") or "Bea Buyer"
    country = address.get("country_iso", "US")
    if body.get("withhold_address"):
        first, second, city, region, zip_code = None, None, None, None, None
    else:
        first = address.get("first_line", "1 Market Street")
        second = address.get("second_line")
        city = address.get("city", "Springfield")
        region = address.get("state", "IL" if country == "US" else None)
        zip_code = address.get("zip", "62701")
    buyer_email = body["buyer_email"] if "buyer_email" in body else f"buyer{state.next_id('buyer')}@sandbox.example"
    buyer_key = buyer_email or name
    buyer_id = state.buyers.get(buyer_key)
    if buyer_id is None:
        buyer_id = state.buyers[buyer_key] = state.next_id("buyer")
    shipping_cost = _money(body, "shipping_cost", "0")
    if transactions:
        transactions[0]["shipping_cost"] = shipping_cost
    paid = bool(body.get("was_paid", True))
    created = _int(body, "created_timestamp") or now
    formatted = "\n".join(x for x in (name, first, second, " ".join(filter(None, (city, region, zip_code))), country) if x)
    seller = state.users[shop["user_id"]]
    receipt = {
        "receipt_id": state.next_id("receipt"), "shop_id": shop["shop_id"], "seller_user_id": shop["user_id"],
        "seller_email": seller.get("email"), "buyer_user_id": buyer_id, "buyer_email": buyer_email,
        "name": name, "first_line": first, "second_line": second, "city": city, "state": region,
        "zip": zip_code, "country_iso": country, "formatted_address": None if body.get("withhold_address") else formatted,
        "payment_method": body.get("payment_method", "cc"), "message_from_seller": None,
        "message_from_buyer": body.get("message_from_buyer"), "is_paid": paid,
        "paid_timestamp": created if paid else None, "is_shipped": False, "is_delivered": False,
        "is_canceled": False, "created": created, "updated": _int(body, "updated_timestamp") or created,
        "is_gift": bool(body.get("is_gift", bool(body.get("gift_message")))),
        "gift_message": body.get("gift_message") or "", "gift_sender": body.get("gift_sender") or "",
        "currency": currency, "subtotal": sum(t["price"] * t["quantity"] for t in transactions),
        "shipping": shipping_cost, "tax": _money(body, "tax"), "vat": _money(body, "vat"),
        "discount": _money(body, "discount"), "gift_wrap": _money(body, "gift_wrap"),
        "transactions": transactions, "shipments": [], "refunds": [], "notifications": [],
    }
    state.receipts[receipt["receipt_id"]] = receipt
    state.receipts_by_shop.setdefault(shop["shop_id"], []).append(receipt["receipt_id"])
    shop["sold"] = shop.get("sold", 0) + sum(t["quantity"] for t in transactions)
    return receipt


def _shop(state, shop_id):
    shop = state.shops.get(shop_id)
    if shop is None:
        raise ApiError(404, f"no shop {shop_id}")
    return shop


def _notify_paid(state, receipt, base_url):
    url = state.config.webhook_url
    if not url:
        return None
    return webhooks.send(state, url, receipt["shop_id"], receipt["receipt_id"], "ORDER_PAID", base_url)


def view(state, receipt_id: int) -> dict:
    with state.lock:
        receipt = state.receipts.get(receipt_id)
        if receipt is None:
            raise ApiError(404, f"no receipt {receipt_id}")
        return {"receipt": render.receipt(receipt), "shop_id": receipt["shop_id"],
                "is_canceled": receipt["is_canceled"], "is_delivered": receipt["is_delivered"],
                "notifications": [dict(n) for n in receipt["notifications"]]}


def create(state, shop_id: int, body: dict, *, sandbox=None, base_url: str = "") -> dict:
    with state.lock:
        shop = _shop(state, shop_id)
        receipt = _build(state, shop, body)
        out = render.receipt(receipt)
    webhook = _notify_paid(state, receipt, base_url) if receipt["is_paid"] else None
    if webhook is not None:
        out = {**out, "_webhook": webhook}
    return out


def bulk(state, shop_id: int, body: dict, *, sandbox=None, base_url: str = "") -> dict:
    count = _int(body, "count", minimum=1)
    if count is None or count > MAX_BULK:
        raise _bad(f"count must be between 1 and {MAX_BULK}")
    start = _int(body, "created_start")
    step = _int(body, "step_seconds", 0)
    template = {k: v for k, v in body.items() if k not in ("count", "created_start", "step_seconds")}
    ids = []
    with state.lock:
        shop = _shop(state, shop_id)
        base = start if start is not None else int(time.time()) - step * (count - 1)
        for i in range(count):
            fields = dict(template)
            fields["created_timestamp"] = base + i * step
            fields.setdefault("adjust_stock", False)
            ids.append(_build(state, shop, fields)["receipt_id"])
    return {"count": len(ids), "receipt_ids": ids}


def act(state, receipt_id: int, action: str, body: dict, *, sandbox=None, base_url: str = "") -> dict:
    now = int(time.time())
    webhook_for = None
    with state.lock:
        receipt = state.receipts.get(receipt_id)
        if receipt is None:
            raise ApiError(404, f"no receipt {receipt_id}")
        if action == "pay":
            if receipt["is_canceled"]:
                raise ApiError(409, "receipt is canceled")
            if not receipt["is_paid"]:
                receipt["is_paid"], receipt["paid_timestamp"], receipt["updated"] = True, now, now
                webhook_for = receipt
        elif action == "ship":
            if receipt["is_canceled"]:
                raise ApiError(409, "receipt is canceled")
            add_shipment(state, receipt, str(body.get("carrier_name", "other")).lower(),
                         str(body.get("tracking_code", "")), parse_ship_date(body.get("ship_date")),
                         note=body.get("note_to_buyer"), via="etsy.com")
        elif action == "cancel":
            receipt["is_canceled"], receipt["updated"] = True, now
            receipt["notifications"].append({"kind": "canceled", "to": receipt["buyer_email"], "time": now,
                                             "reason": body.get("reason")})
        elif action == "refund":
            total = render.grandtotal_cents(receipt)
            refunded = sum(r["amount"] for r in receipt["refunds"])
            amount = _money(body, "amount", str(Decimal(total - refunded) / 100))
            if amount <= 0 or refunded + amount > total:
                raise _bad(f"refund amount must be > 0 and at most what is left ({(total - refunded) / 100:.2f})")
            receipt["refunds"].append({"amount": amount, "created_timestamp": now, "reason": body.get("reason"),
                                       "note_from_issuer": body.get("note_from_issuer"), "status": "COMPLETED"})
            # No updated_timestamp change: Etsy does not bump it for refunds (#513, #339).
        elif action == "deliver":
            receipt["is_delivered"], receipt["updated"] = True, now
        elif action == "ship-date":
            ship_date = parse_ship_date(body.get("ship_date"))
            if ship_date is None:
                raise _bad("give ship_date (YYYY-MM-DD or epoch seconds)")
            for transaction in receipt["transactions"]:
                transaction["expected_ship_date"] = ship_date
            # No updated_timestamp change: Etsy does not bump it for ship-date edits (#232).
        elif action == "timestamps":
            for key, field in (("created_timestamp", "created"), ("updated_timestamp", "updated")):
                if key in body:
                    receipt[field] = _int(body, key, minimum=946684800)
        else:
            raise ApiError(404, f"unknown receipt action {action!r}: pay, ship, cancel, refund, deliver, "
                                "ship-date, timestamps")
    result = view(state, receipt_id)
    if webhook_for is not None:
        hook = _notify_paid(state, webhook_for, base_url)
        if hook is not None:
            result["webhook"] = hook
    return result
