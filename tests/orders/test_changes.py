"""OrderUpdated says what changed, in words an order desk acts on."""

import pytest

from etsyflow.orders.changes import classify
from etsyflow.schemas.orders import receipt_to_order, snapshot

from .etsy_shapes import edited, money, receipt

SHIPMENT = {"receipt_shipping_id": 6100000001, "shipment_notification_timestamp": 1764504000,
            "carrier_name": "dhl", "tracking_code": "JJD000123"}
REFUND = {"amount": money(500), "created_timestamp": 1764590400, "reason": "late", "note_from_issuer": None,
          "status": "complete"}


def changes(before: dict, after: dict) -> list[str]:
    return classify(snapshot(receipt_to_order(before)), snapshot(receipt_to_order(after)))


BASE = receipt()


@pytest.mark.parametrize("after, expected", [
    (edited(BASE, is_paid=False, status="open"), ["status_changed"]),
    (edited(BASE, is_shipped=True, status="completed", shipments=[SHIPMENT]), ["shipped", "tracking_added"]),
    (edited(BASE, status="canceled"), ["canceled"]),
    (edited(BASE, status="partially refunded", refunds=[REFUND]), ["refunded"]),
    (edited(BASE, first_line="Other street 2"), ["address_changed"]),
    (edited(BASE, buyer_email="anna@example.com"), ["buyer_changed"]),
    (edited(BASE, message_from_buyer="No wrapping"), ["messages_changed"]),
    (edited(BASE, grandtotal=money(1)), ["totals_changed"]),
])
def test_each_change_is_named(after, expected):
    assert changes(BASE, after) == expected


def test_payment_arrives():
    unpaid = edited(BASE, is_paid=False, status="open")
    assert changes(unpaid, BASE) == ["paid"]


def test_ship_date_edit_is_a_shipment_change_not_new_tracking():
    shipped = edited(BASE, is_shipped=True, status="completed", shipments=[SHIPMENT])
    moved = edited(shipped, shipments=[dict(SHIPMENT, shipment_notification_timestamp=1764600000)])
    assert changes(shipped, moved) == ["shipment_changed"]


def test_expected_ship_date_edit():
    from .etsy_shapes import transaction

    moved = edited(BASE, transactions=[transaction(expected_ship_date=1764800000)])
    assert changes(BASE, moved) == ["ship_date_changed"]


def test_second_parcel_adds_tracking():
    shipped = edited(BASE, is_shipped=True, status="completed", shipments=[SHIPMENT])
    two = edited(shipped, shipments=[SHIPMENT, dict(SHIPMENT, receipt_shipping_id=2, tracking_code="JJD999")])
    assert changes(shipped, two) == ["tracking_added"]


def test_a_second_refund_on_a_partially_refunded_order():
    once = edited(BASE, status="partially refunded", refunds=[REFUND])
    twice = edited(BASE, status="partially refunded", refunds=[REFUND, REFUND])
    assert changes(once, twice) == ["refunded"]


def test_paid_to_completed_without_shipping_flag_is_a_status_change():
    assert changes(BASE, edited(BASE, status="completed")) == ["status_changed"]


def test_identical_snapshots_have_no_changes():
    assert changes(BASE, edited(BASE, updated_timestamp=1764999999)) == []
