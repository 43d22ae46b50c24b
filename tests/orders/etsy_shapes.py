"""Etsy-shaped receipts for unit tests (field names from Etsy's OpenAPI ShopReceipt)."""

from __future__ import annotations

import copy


def money(cents: int, currency: str = "EUR") -> dict:
    return {"amount": cents, "divisor": 100, "currency_code": currency}


def transaction(**over) -> dict:
    t = {
        "transaction_id": 4100000001, "title": "Blue mug", "description": "A mug", "seller_user_id": 51000001,
        "buyer_user_id": 71000001, "create_timestamp": 1764417600, "created_timestamp": 1764417600,
        "paid_timestamp": 1764417600, "shipped_timestamp": None, "quantity": 2, "listing_image_id": None,
        "receipt_id": 3100000001, "is_digital": False, "file_data": "", "listing_id": 1500000001,
        "transaction_type": "listing", "product_id": 9000000001, "sku": "MUG-BLUE-L",
        "price": money(1250), "shipping_cost": money(0),
        "variations": [
            {"property_id": 200, "value_id": 7700001, "formatted_name": "Colour", "formatted_value": "Blue"},
            {"property_id": 54, "value_id": None, "formatted_name": "Personalization",
             "formatted_value": "For Anna"},
        ],
        "product_data": [], "shipping_profile_id": 190000001, "min_processing_days": 1, "max_processing_days": 3,
        "shipping_method": None, "shipping_upgrade": None, "expected_ship_date": 1764590400,
        "buyer_coupon": 0.0, "shop_coupon": 0.0,
    }
    t.update(over)
    return t


def receipt(**over) -> dict:
    r = {
        "receipt_id": 3100000001, "receipt_type": 0, "seller_user_id": 51000001, "seller_email": "s@example.com",
        "buyer_user_id": 71000001, "buyer_email": None, "name": "Anna Buyer", "first_line": "Hauptstr. 1",
        "second_line": "", "city": "Berlin", "state": None, "zip": "10115", "status": "paid",
        "formatted_address": "Anna Buyer\nHauptstr. 1\n10115 Berlin\nGermany", "country_iso": "DE",
        "payment_method": "cc", "payment_email": None, "message_from_seller": None,
        "message_from_buyer": "Please wrap it", "message_from_payment": None, "is_paid": True, "is_shipped": False,
        "create_timestamp": 1764417600, "created_timestamp": 1764417600, "update_timestamp": 1764417660,
        "updated_timestamp": 1764417660, "is_gift": True, "gift_message": "Happy birthday", "gift_sender": "Ben",
        "grandtotal": money(2995), "subtotal": money(2300), "total_price": money(2500),
        "total_shipping_cost": money(495), "total_tax_cost": money(0), "total_vat_cost": money(200),
        "discount_amt": money(200), "gift_wrap_price": money(0),
        "shipments": [], "transactions": [transaction()], "refunds": [],
    }
    r.update(over)
    return r


def edited(base: dict, **over) -> dict:
    out = copy.deepcopy(base)
    out.update(over)
    return out
