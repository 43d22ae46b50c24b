"""OrderShipped → the createReceiptShipment JSON body, and the inbound schema's rules."""

from __future__ import annotations

import pytest

from etsyflow.fulfilment.carriers import build_map
from etsyflow.schemas.events import OrderShippedSchema
from etsyflow.schemas.shipments import (confirmed_data, find_shipment, new_shipment, rejected_data,
                                        ship_date, shipment_request)

CARRIERS = build_map()
PARCEL = {"shop_id": 5, "receipt_id": 77, "carrier": "Royal Mail", "tracking_number": "JC 2431 3788 5GB",
          "shipped_at": "2026-11-29T16:05:00Z", "note_to_buyer": "Thank you!", "parcel_id": None}


def body_for(**changes):
    data = dict(PARCEL, **changes)
    return shipment_request(data, CARRIERS.resolve(data.get("carrier")), send_bcc=False)


def test_supported_carrier_body():
    assert body_for() == {"tracking_code": "JC243137885GB", "carrier_name": "royal-mail", "send_bcc": False,
                          "note_to_buyer": "Thank you!", "ship_date": "2026-11-29"}


def test_send_bcc_follows_the_shop_setting():
    data = dict(PARCEL)
    assert shipment_request(data, CARRIERS.resolve("UPS"), send_bcc=True)["send_bcc"] is True


def test_unknown_carrier_sends_other_and_keeps_carrier_and_number_in_the_note():
    body = body_for(carrier="Courier Express", note_to_buyer=None)
    assert body["carrier_name"] == "other"
    assert body["tracking_code"] == "JC243137885GB"
    assert body["note_to_buyer"] == "Shipped with Courier Express, tracking number JC243137885GB."
    with_note = body_for(carrier="Courier Express")
    assert with_note["note_to_buyer"] == "Thank you!\n\nShipped with Courier Express, tracking number JC243137885GB."


def test_untracked_parcel_sends_neither_tracking_nor_carrier():
    body = body_for(tracking_number=None, carrier=None, shipped_at=None, note_to_buyer=None)
    assert body == {"send_bcc": False}


@pytest.mark.parametrize("shipped_at, expected", [
    ("2026-11-29T16:05:00Z", "2026-11-29"),
    ("2026-11-29T23:30:00-05:00", "2026-11-29"),  # the warehouse's own date, not UTC's 30th
    ("2026-11-30T00:30:00+01:00", "2026-11-30"),
    (None, None), ("", None), ("yesterday", None),
])
def test_ship_date_is_the_calendar_date_where_it_shipped(shipped_at, expected):
    assert ship_date(shipped_at) == expected


def test_finding_our_shipment_on_the_receipt():
    receipt = {"shipments": [
        {"receipt_shipping_id": 1, "carrier_name": "usps", "tracking_code": "9400 1000"},
        {"receipt_shipping_id": 2, "carrier_name": "royal-mail", "tracking_code": "jc243137885gb"},
        {"receipt_shipping_id": 3, "carrier_name": "other", "tracking_code": ""},
    ]}
    assert find_shipment(receipt, "JC243137885GB")["receipt_shipping_id"] == 2
    assert find_shipment(receipt, "94001000")["receipt_shipping_id"] == 1
    assert find_shipment(receipt, "NOPE") is None
    assert find_shipment(receipt, "")["receipt_shipping_id"] == 3  # an untracked parcel
    assert find_shipment({"shipments": None}, "X") is None
    assert new_shipment({1, 2}, receipt, "NOT-THERE")["receipt_shipping_id"] == 3


def test_confirmed_data_tells_what_etsy_got():
    choice = CARRIERS.resolve("Courier Express")
    body = body_for(carrier="Courier Express")
    shipment = {"receipt_shipping_id": 9, "carrier_name": "other", "tracking_code": "JC243137885GB"}
    data = confirmed_data(dict(PARCEL, carrier="Courier Express"), choice, body, shipment, already_recorded=False)
    assert data == {"shop_id": 5, "receipt_id": 77, "carrier": "other", "tracking_number": "JC243137885GB",
                    "carrier_mapped": False, "carrier_fallback": True, "original_carrier": "Courier Express",
                    "receipt_shipping_id": 9, "tracking_kept": True, "already_recorded": False,
                    "ship_date": "2026-11-29"}


def test_rejected_data_has_the_contract_fields_and_the_parcel():
    assert rejected_data(PARCEL, "canceled") == {"shop_id": 5, "receipt_id": 77, "reason": "canceled",
                                                 "tracking_number": "JC 2431 3788 5GB", "carrier": "Royal Mail"}


@pytest.mark.parametrize("change, field", [
    ({"tracking_number": "1Z999", "carrier": None}, "carrier"),
    ({"tracking_number": "--- ---"}, "tracking_number"),
    ({"tracking_number": "X" * 101}, "tracking_number"),
    ({"note_to_buyer": "n" * 501}, "note_to_buyer"),
    ({"receipt_id": 0}, "receipt_id"),
    ({"shipped_at": "last tuesday"}, "shipped_at"),
])
def test_schema_refuses_what_cannot_be_sent(change, field):
    errors = OrderShippedSchema().validate(dict(PARCEL, **change))
    assert field in errors, errors


def test_schema_needs_the_tracking_key_but_allows_an_untracked_parcel():
    data = {k: v for k, v in PARCEL.items() if k != "tracking_number"}
    assert "null for a parcel sent without tracking" in OrderShippedSchema().validate(data)["tracking_number"][0]
    assert OrderShippedSchema().validate(dict(data, tracking_number=None, carrier=None)) == {}
    assert OrderShippedSchema().validate(dict(data, tracking_number="")) == {}


def test_a_long_note_is_shortened_so_the_tracking_line_still_fits():
    body = body_for(carrier="Courier Express", note_to_buyer="x" * 500)
    note = body["note_to_buyer"]
    assert len(note) <= 500
    assert note.endswith("Shipped with Courier Express, tracking number JC243137885GB.")
    assert note.startswith("xxx") and "…" in note
