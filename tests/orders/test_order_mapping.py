"""An Etsy receipt becomes the contract's ``order``: every field a back office needs, in its form."""

import json
import os
from pathlib import Path

import pytest

from etsyflow.schemas.orders import (OrderSchema, ReceiptError, fingerprint, receipt_to_order, snapshot)

from tests.conftest import require_service

from .etsy_shapes import edited, money, receipt, transaction

OPENAPI = Path(os.environ.get("ETSY_OPENAPI_PATH") or "openapi.json")


def test_fixture_uses_only_etsy_field_names():
    """The hand-made receipt is Etsy's shape (guards the tests below against invented fields)."""
    require_service(OPENAPI.is_file(), "Etsy's openapi.json (ETSY_OPENAPI_PATH)")
    schemas = json.loads(OPENAPI.read_text())["components"]["schemas"]
    r = receipt()
    assert set(r) <= set(schemas["ShopReceipt"]["properties"])
    assert set(r["transactions"][0]) <= set(schemas["ShopReceiptTransaction"]["properties"])
    assert set(r["transactions"][0]["variations"][0]) <= set(schemas["TransactionVariations"]["properties"])


def test_full_order():
    order = receipt_to_order(receipt())
    assert OrderSchema().validate(order) == {}
    assert order["receipt_id"] == 3100000001
    assert order["status"] == "paid"
    assert order["created_at"] == "2025-11-29T12:00:00Z"
    assert order["updated_at"] == "2025-11-29T12:01:00Z"
    assert order["buyer"] == {"user_id": 71000001, "name": "Anna Buyer", "email": None}
    assert order["shipping_address"] == {"name": "Anna Buyer", "line1": "Hauptstr. 1", "line2": None,
                                         "city": "Berlin", "state": None, "postcode": "10115", "country_iso": "DE"}
    assert order["totals"] == {"subtotal": "25.00", "shipping": "4.95", "tax": "0.00", "vat": "2.00",
                               "gift_wrap": "0.00", "discount": "2.00", "grand_total": "29.95", "currency": "EUR"}
    [item] = order["items"]
    assert item == {"transaction_id": 4100000001, "listing_id": 1500000001, "product_id": 9000000001,
                    "sku": "MUG-BLUE-L", "title": "Blue mug", "quantity": 2, "unit_price": "12.50",
                    "shipping_cost": "0.00", "variations": [{"name": "Colour", "value": "Blue"}],
                    "personalization": "For Anna", "expected_ship_date": "2025-12-01T12:00:00Z",
                    "shipped_at": None}
    assert order["gift_message"] == "Happy birthday" and order["gift_sender"] == "Ben" and order["is_gift"]
    assert order["buyer_message"] == "Please wrap it"
    assert order["shipments"] == [] and order["refunds"] == [] and order["refunded_total"] == "0.00"


def test_billing_address_is_replicated_from_shipping_and_marked():
    order = receipt_to_order(receipt())
    billing = dict(order["billing_address"])
    assert billing.pop("source") == "shipping"
    assert billing == order["shipping_address"]


def test_buyer_email_when_granted_and_withheld_address_fields():
    order = receipt_to_order(receipt(buyer_email="anna@example.com", first_line=None, city=None, zip=None))
    assert order["buyer"]["email"] == "anna@example.com"
    assert order["shipping_address"]["line1"] is None and order["shipping_address"]["postcode"] is None
    assert OrderSchema().validate(order) == {}


def test_personalization_by_question_id_and_variations_without_product_data():
    t = transaction(variations=[
        {"property_id": 513, "value_id": None, "formatted_name": "Size", "formatted_value": "XL"},
        {"property_id": 1, "value_id": None, "formatted_name": "Engraving", "formatted_value": "A & B",
         "question_id": 12},
    ], product_data=[])
    [item] = receipt_to_order(receipt(transactions=[t]))["items"]
    assert item["variations"] == [{"name": "Size", "value": "XL"}]
    assert item["personalization"] == "A & B"


def test_product_data_is_the_fallback_for_variations():
    t = transaction(variations=[], product_data=[
        {"property_id": 200, "property_name": "Primary color", "scale_id": None, "scale_name": None,
         "value_ids": [1], "values": ["Green"]}])
    [item] = receipt_to_order(receipt(transactions=[t]))["items"]
    assert item["variations"] == [{"name": "Primary color", "value": "Green"}]
    assert item["personalization"] is None


def test_money_with_other_divisors_is_exact():
    order = receipt_to_order(receipt(grandtotal={"amount": 123456, "divisor": 1000, "currency_code": "KWD"},
                                     transactions=[transaction(price={"amount": 999, "divisor": 1,
                                                                      "currency_code": "JPY"})]))
    assert order["totals"]["grand_total"] == "123.46"  # 123.456 rounded half-even to cents
    assert order["totals"]["currency"] == "KWD"
    assert order["items"][0]["unit_price"] == "999.00"


def test_shipments_and_refunds():
    r = receipt(status="fully refunded", is_shipped=True,
                shipments=[{"receipt_shipping_id": 6100000001, "shipment_notification_timestamp": 1764504000,
                            "carrier_name": "dhl", "tracking_code": "JJD000123"}],
                refunds=[{"amount": money(2995), "created_timestamp": 1764590400, "reason": "damaged",
                          "note_from_issuer": None, "status": "complete"}])
    order = receipt_to_order(r)
    assert order["status"] == "fully_refunded"
    assert order["shipments"] == [{"carrier": "dhl", "tracking_number": "JJD000123",
                                   "shipped_at": "2025-11-30T12:00:00Z"}]
    assert order["refunded_total"] == "29.95"
    assert order["refunds"][0]["reason"] == "damaged"


@pytest.mark.parametrize("etsy, ours", [("Payment Processing", "payment_processing"), ("Completed", "completed"),
                                        ("canceled", "canceled"), ("partially refunded", "partially_refunded"),
                                        ("open", "open")])
def test_statuses(etsy, ours):
    assert receipt_to_order(receipt(status=etsy))["status"] == ours


@pytest.mark.parametrize("bad, field", [
    ({"receipt_id": None}, "receipt_id"),
    ({"receipt_id": "abc"}, "receipt_id"),
    ({"grandtotal": {"amount": "x", "divisor": 100}}, "grandtotal"),
])
def test_unusable_receipts_are_refused_with_the_field(bad, field):
    with pytest.raises(ReceiptError, match=field):
        receipt_to_order(receipt(**bad))


def test_not_an_object_is_refused():
    with pytest.raises(ReceiptError):
        receipt_to_order(["not", "a", "receipt"])


def test_fingerprint_ignores_only_the_modification_time():
    base = receipt()
    assert fingerprint(receipt_to_order(base)) == fingerprint(receipt_to_order(edited(base, updated_timestamp=1)))
    assert fingerprint(receipt_to_order(base)) != fingerprint(receipt_to_order(edited(base, is_shipped=True)))


def test_snapshot_keeps_no_personal_data_in_clear():
    text = json.dumps(snapshot(receipt_to_order(receipt(buyer_email="anna@example.com"))))
    for secret in ("Anna", "anna@example.com", "Hauptstr", "Happy birthday", "wrap"):
        assert secret not in text
