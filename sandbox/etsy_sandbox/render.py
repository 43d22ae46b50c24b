"""Internal records → Etsy's response shapes (field for field as in openapi.json)."""

from __future__ import annotations

import re

from .forms import money

LISTING_DAYS = 120  # an Etsy listing runs four months before it renews or expires


def shop(s: dict, state) -> dict:
    active = sum(1 for l in state.listings.values() if l["shop_id"] == s["shop_id"] and l["state"] == "active")
    return {
        "shop_id": s["shop_id"], "user_id": s["user_id"], "shop_name": s["shop_name"],
        "create_date": s["created"], "created_timestamp": s["created"],
        "title": s.get("title"), "announcement": s.get("announcement"), "currency_code": s["currency_code"],
        "is_vacation": False, "vacation_message": None, "sale_message": s.get("sale_message"),
        "digital_sale_message": s.get("digital_sale_message"),
        "update_date": s["updated"], "updated_timestamp": s["updated"],
        "listing_active_count": active, "digital_listing_count": 0, "login_name": s["login_name"],
        "accepts_custom_requests": False, "policy_welcome": None, "policy_payment": None,
        "policy_shipping": None, "policy_refunds": None, "policy_additional": s.get("policy_additional"),
        "policy_seller_info": None, "policy_update_date": s["created"],
        "policy_has_private_receipt_info": False, "has_unstructured_policies": False,
        "policy_privacy": None, "vacation_autoreply": None,
        "url": f"https://www.etsy.com/shop/{s['shop_name']}", "image_url_760x100": None,
        "num_favorers": 0, "languages": ["en-US"], "icon_url_fullxfull": None,
        "is_using_structured_policies": True, "has_onboarded_structured_policies": True,
        "include_dispute_form_link": False, "is_direct_checkout_onboarded": True,
        "is_etsy_payments_onboarded": True, "is_calculated_eligible": False,
        "is_opted_in_to_buyer_promise": False, "is_shop_us_based": s["country_iso"] == "US",
        "transaction_sold_count": s.get("sold", 0),
        "shipping_from_country_iso": s["country_iso"], "shop_location_country_iso": s["country_iso"],
        "review_count": 0, "review_average": None,
    }


def user(u: dict) -> dict:
    return {"user_id": u["user_id"], "primary_email": u.get("email"), "first_name": u.get("first_name"),
            "last_name": u.get("last_name"), "image_url_75x75": None}


def destination(d: dict, currency: str) -> dict:
    return {
        "shipping_profile_destination_id": d["shipping_profile_destination_id"],
        "shipping_profile_id": d["shipping_profile_id"],
        "origin_country_iso": d["origin_country_iso"],
        "destination_country_iso": d["destination_country_iso"] or "",
        "destination_region": d["destination_region"],
        "primary_cost": money(d["primary_cost"], currency),
        "secondary_cost": money(d["secondary_cost"], currency),
        "shipping_carrier_id": d["shipping_carrier_id"], "mail_class": d["mail_class"],
        "min_delivery_days": d["min_delivery_days"], "max_delivery_days": d["max_delivery_days"],
    }


def shipping_profile(p: dict, state) -> dict:
    currency = state.shops[p["shop_id"]]["currency_code"]
    dests = [destination(state.destinations[d], currency) for d in p["destination_ids"] if d in state.destinations]
    return {
        "shipping_profile_id": p["shipping_profile_id"], "title": p["title"], "user_id": p["user_id"],
        "origin_country_iso": p["origin_country_iso"], "is_deleted": p.get("is_deleted", False),
        "shipping_profile_destinations": dests,
        "shipping_profile_upgrades": [upgrade(u, state) for u in p.get("upgrades", [])],
        "origin_postal_code": p["origin_postal_code"], "profile_type": "manual",
        "domestic_handling_fee": 0.0, "international_handling_fee": 0.0,
    }


def upgrade(u: dict, state) -> dict:
    """``ShopShippingProfileUpgrade``: ``type`` 0 domestic, 1 international."""
    currency = state.shops[state.shipping_profiles[u["shipping_profile_id"]]["shop_id"]]["currency_code"]
    return {"shipping_profile_id": u["shipping_profile_id"], "upgrade_id": u["upgrade_id"],
            "upgrade_name": u["upgrade_name"], "type": u["type"], "rank": u["rank"], "language": "en-US",
            "price": money(u["price"], currency), "secondary_price": money(u["secondary_price"], currency),
            "shipping_carrier_id": u["shipping_carrier_id"], "mail_class": u["mail_class"],
            "min_delivery_days": u["min_delivery_days"], "max_delivery_days": u["max_delivery_days"]}


def processing_profile(r: dict) -> dict:
    low, high = r["min_processing_days"], r["max_processing_days"]
    if r["processing_time_unit"] == "weeks":
        label = f"{low // 7}-{high // 7} weeks" if low != high else f"{low // 7} weeks"
    else:
        label = f"{low}-{high} days" if low != high else f"{low} days"
    return {"shop_id": r["shop_id"], "readiness_state_id": r["readiness_state_id"],
            "readiness_state": r["readiness_state"], "min_processing_days": low,
            "max_processing_days": high, "processing_days_display_label": label}


def return_policy(p: dict) -> dict:
    return {"return_policy_id": p["return_policy_id"], "shop_id": p["shop_id"],
            "accepts_returns": p["accepts_returns"], "accepts_exchanges": p["accepts_exchanges"],
            "return_deadline": p["return_deadline"]}


def image(i: dict, base_url: str) -> dict:
    url = f"{base_url}/_sandbox/images/{i['listing_image_id']}.{i['ext']}"
    return {
        "listing_id": i["listing_id"], "listing_image_id": i["listing_image_id"],
        "hex_code": None, "red": None, "green": None, "blue": None, "hue": None,
        "saturation": None, "brightness": None, "is_black_and_white": None,
        "creation_tsz": i["created"], "created_timestamp": i["created"], "rank": i["rank"],
        "url_75x75": url, "url_170x135": url, "url_570xN": url, "url_fullxfull": url,
        "full_height": i["height"], "full_width": i["width"], "alt_text": i["alt_text"],
    }


def property_value(v: dict) -> dict:
    return {"property_id": v["property_id"], "property_name": v.get("property_name"),
            "scale_id": v.get("scale_id"), "scale_name": v.get("scale_name"),
            "value_ids": list(v.get("value_ids", [])), "values": list(v.get("values", []))}


def inventory(inv: dict, currency: str, show_deleted: bool = False) -> dict:
    products = []
    for p in inv["products"]:
        if p.get("is_deleted") and not show_deleted:
            continue
        products.append({
            "product_id": p["product_id"], "sku": p["sku"], "is_deleted": p.get("is_deleted", False),
            "offerings": [{
                "offering_id": o["offering_id"], "quantity": o["quantity"], "is_enabled": o["is_enabled"],
                "is_deleted": o.get("is_deleted", False), "price": money(o["price"], currency),
                "readiness_state_id": o.get("readiness_state_id"),
            } for o in p["offerings"]],
            "property_values": [property_value(v) for v in p["property_values"]],
        })
    return {"products": products, "price_on_property": list(inv["price_on_property"]),
            "quantity_on_property": list(inv["quantity_on_property"]),
            "sku_on_property": list(inv["sku_on_property"]),
            "readiness_state_on_property": list(inv.get("readiness_state_on_property", []))}


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "listing"


def listing(l: dict, state) -> dict:
    currency = state.shops[l["shop_id"]]["currency_code"]
    price = money(l["price"], currency)
    return {
        "listing_id": l["listing_id"], "user_id": l["user_id"], "shop_id": l["shop_id"],
        "title": l["title"], "description": l["description"], "rich_description": None,
        "state": l["state"], "creation_timestamp": l["created"], "created_timestamp": l["created"],
        "ending_timestamp": l["created"] + LISTING_DAYS * 86400,
        "original_creation_timestamp": l["created"], "last_modified_timestamp": l["updated"],
        "updated_timestamp": l["updated"], "state_timestamp": l["state_timestamp"],
        "quantity": l["quantity"], "shop_section_id": l["shop_section_id"],
        "featured_rank": l["featured_rank"],
        "url": f"https://www.etsy.com/listing/{l['listing_id']}/{_slug(l['title'])}",
        "num_favorers": 0, "non_taxable": not l["is_taxable"], "is_taxable": l["is_taxable"],
        "is_customizable": l["is_customizable"], "is_personalizable": l["is_personalizable"],
        "listing_type": l["listing_type"], "tags": list(l["tags"]), "materials": list(l["materials"]),
        "shipping_profile_id": l["shipping_profile_id"], "return_policy_id": l["return_policy_id"],
        "processing_min": l["processing_min"], "processing_max": l["processing_max"],
        "who_made": l["who_made"], "when_made": l["when_made"], "is_supply": l["is_supply"],
        "item_weight": l["item_weight"], "item_weight_unit": l["item_weight_unit"],
        "item_length": l["item_length"], "item_width": l["item_width"], "item_height": l["item_height"],
        "item_dimensions_unit": l["item_dimensions_unit"], "is_private": False,
        "style": list(l["styles"]), "file_data": None,
        "has_variations": any(p["property_values"] for p in l["inventory"]["products"]),
        "should_auto_renew": l["should_auto_renew"], "language": "en-US",
        "price": price, "converted_price": price, "taxonomy_id": l["taxonomy_id"],
        "readiness_state_id": l["readiness_state_id"], "suggested_title": None,
    }


def listing_with(l: dict, state, includes, base_url: str) -> dict:
    """``ShopListingWithAssociations``: associations only when asked for, as Etsy does."""
    body = listing(l, state)
    includes = set(includes or [])
    if "Images" in includes:
        body["images"] = [image(state.images[i], base_url) for i in l["image_ids"] if i in state.images]
    if "Shop" in includes:
        body["shop"] = shop(state.shops[l["shop_id"]], state)
    if "User" in includes:
        body["user"] = user(state.users[l["user_id"]])
    if "Shipping" in includes and l["shipping_profile_id"] in state.shipping_profiles:
        body["shipping_profile"] = shipping_profile(state.shipping_profiles[l["shipping_profile_id"]], state)
    if "Inventory" in includes:
        body["inventory"] = inventory(l["inventory"], state.shops[l["shop_id"]]["currency_code"])
    if "Videos" in includes:
        body["videos"] = []
    return body


STATUS_PAID, STATUS_OPEN = "paid", "open"


def receipt_status(r: dict) -> str:
    if r["is_canceled"]:
        return "canceled"
    refunded = sum(x["amount"] for x in r["refunds"])
    if refunded and refunded >= grandtotal_cents(r):
        return "fully refunded"
    if refunded:
        return "partially refunded"
    if not r["is_paid"]:
        return "open"
    return "completed" if r["is_shipped"] else "paid"


def grandtotal_cents(r: dict) -> int:
    return (r["subtotal"] + r["shipping"] + r["tax"] + r["vat"] + r["gift_wrap"] - r["discount"])


def transaction(t: dict, r: dict) -> dict:
    cur = r["currency"]
    return {
        "transaction_id": t["transaction_id"], "title": t["title"], "description": t["description"],
        "seller_user_id": r["seller_user_id"], "buyer_user_id": r["buyer_user_id"],
        "create_timestamp": r["created"], "created_timestamp": r["created"],
        "paid_timestamp": r["paid_timestamp"], "shipped_timestamp": t.get("shipped_timestamp"),
        "quantity": t["quantity"], "listing_image_id": t["listing_image_id"],
        "receipt_id": r["receipt_id"], "is_digital": False, "file_data": "",
        "listing_id": t["listing_id"], "transaction_type": "listing", "product_id": t["product_id"],
        "sku": t["sku"], "price": money(t["price"], cur), "shipping_cost": money(t["shipping_cost"], cur),
        "variations": [dict(v) for v in t["variations"]],
        "product_data": [property_value(v) for v in t["product_data"]],
        "shipping_profile_id": t["shipping_profile_id"], "min_processing_days": t["min_processing_days"],
        "max_processing_days": t["max_processing_days"], "shipping_method": None, "shipping_upgrade": None,
        "expected_ship_date": t["expected_ship_date"], "buyer_coupon": 0.0, "shop_coupon": 0.0,
    }


def receipt(r: dict) -> dict:
    cur = r["currency"]
    total = r["subtotal"] + r["shipping"] + r["tax"] + r["vat"] + r["gift_wrap"] - r["discount"]
    return {
        "receipt_id": r["receipt_id"], "receipt_type": 0, "seller_user_id": r["seller_user_id"],
        "seller_email": r["seller_email"], "buyer_user_id": r["buyer_user_id"],
        "buyer_email": r["buyer_email"], "name": r["name"], "first_line": r["first_line"],
        "second_line": r["second_line"], "city": r["city"], "state": r["state"], "zip": r["zip"],
        "status": receipt_status(r), "formatted_address": r["formatted_address"],
        "country_iso": r["country_iso"], "payment_method": r["payment_method"],
        "payment_email": None, "message_from_seller": r["message_from_seller"],
        "message_from_buyer": r["message_from_buyer"], "message_from_payment": None,
        "is_paid": r["is_paid"], "is_shipped": r["is_shipped"],
        "create_timestamp": r["created"], "created_timestamp": r["created"],
        "update_timestamp": r["updated"], "updated_timestamp": r["updated"],
        "is_gift": r["is_gift"], "gift_message": r["gift_message"], "gift_sender": r["gift_sender"],
        "grandtotal": money(total, cur), "subtotal": money(r["subtotal"], cur),
        "total_price": money(r["subtotal"], cur), "total_shipping_cost": money(r["shipping"], cur),
        "total_tax_cost": money(r["tax"], cur), "total_vat_cost": money(r["vat"], cur),
        "discount_amt": money(r["discount"], cur), "gift_wrap_price": money(r["gift_wrap"], cur),
        "shipments": [{"receipt_shipping_id": s["receipt_shipping_id"],
                       "shipment_notification_timestamp": s["shipment_notification_timestamp"],
                       "carrier_name": s["carrier_name"], "tracking_code": s["tracking_code"]}
                      for s in r["shipments"]],
        "transactions": [transaction(t, r) for t in r["transactions"]],
        "refunds": [{"amount": money(x["amount"], cur), "created_timestamp": x["created_timestamp"],
                     "reason": x["reason"], "note_from_issuer": x["note_from_issuer"], "status": x["status"]}
                    for x in r["refunds"]],
    }
