"""OrderShipped → Etsy shipment, exactly once per parcel (sandbox over HTTP, real Redis, runtime, tail)."""

from __future__ import annotations


import pytest

from etsyflow.messages import CloudEvent, publish
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

WAIT = 20  # seconds: the longest any single expectation may take


def shipped(shop, receipt_id, carrier="Royal Mail", tracking="JC243137885GB", **extra) -> CloudEvent:
    data = {"shop_id": shop.shop_id, "receipt_id": receipt_id, "carrier": carrier, "tracking_number": tracking,
            "shipped_at": "2026-11-29T16:05:00Z", **extra}
    return CloudEvent.new("OrderShipped", data, source="wms")


def answer_to(tail, cause: CloudEvent, kind="ShipmentConfirmed", timeout=WAIT) -> dict:
    [event] = tail.wait_for(kind, lambda e: e.get("causationid") == cause.id, timeout=timeout)
    return event["data"]


def settled(runtime, timeout=30.0) -> None:
    """Every queue drained, delayed retries included (bounded)."""
    assert runtime.join(timeout), f"queues not drained within {timeout} s"


def eventually(check, timeout=15.0):
    return wait_for(check, timeout)


def test_a_shipment_reaches_etsy_once_and_is_confirmed(shop, tail, runtime):
    receipt_id = shop.order()
    cause = publish(shipped(shop, receipt_id, note_to_buyer="Thanks for your order!"))
    data = answer_to(tail, cause)
    [on_etsy] = shop.shipments(receipt_id)
    assert on_etsy["carrier_name"] == "royal-mail"
    assert on_etsy["tracking_code"] == "JC243137885GB"
    assert data["shop_id"] == shop.shop_id and data["receipt_id"] == receipt_id
    assert data["carrier"] == "royal-mail" and data["tracking_number"] == "JC243137885GB"
    assert data["carrier_mapped"] is True and data["carrier_fallback"] is False
    assert data["receipt_shipping_id"] == on_etsy["receipt_shipping_id"]
    assert data["already_recorded"] is False and data["tracking_kept"] is True
    [call] = shop.create_calls()
    assert call["body"]["ship_date"] == "2026-11-29"
    assert call["body"]["note_to_buyer"] == "Thanks for your order!"
    assert call["body"]["send_bcc"] in (False, "false")
    [email] = shop.notifications(receipt_id)
    assert email["tracking_code"] == "JC243137885GB"
    from etsyflow.state import get_redis

    record = get_redis().hgetall(f"etsyflow:fulfilment:parcel:{shop.shop_id}:{receipt_id}:TJC243137885GB")
    assert record[b"state"] == b"confirmed" and record[b"event_id"] == cause.id.encode()


def test_send_bcc_follows_the_shop_setting(shop, tail, runtime):
    from etsyflow.shops import ShopStore

    ShopStore().set_setting(shop.shop_id, "send_bcc", True)
    receipt_id = shop.order()
    answer_to(tail, publish(shipped(shop, receipt_id)))
    [call] = shop.create_calls()
    assert call["body"]["send_bcc"] in (True, "true")


SPELLINGS = [("royalmail", "royal-mail"), ("DHL Express", "dhl"), ("Evri", "hermes"),
             ("USPS Priority Mail", "usps"), ("Canada Post", "canada-post"), ("la poste", "la-poste-colissimo")]


def test_carrier_spellings_reach_etsy_as_etsy_names(shop, tail, runtime):
    sent = []
    for n, (typed, etsy_name) in enumerate(SPELLINGS):
        receipt_id = shop.order()
        sent.append((receipt_id, typed, etsy_name, publish(shipped(shop, receipt_id, carrier=typed,
                                                                   tracking=f"TRK{n}X"))))
    for n, (receipt_id, typed, etsy_name, cause) in enumerate(sent):
        data = answer_to(tail, cause)
        [on_etsy] = shop.shipments(receipt_id)
        assert on_etsy["carrier_name"] == etsy_name == data["carrier"], typed
        assert on_etsy["tracking_code"] == f"TRK{n}X"  # kept: Etsy knows the carrier
        assert data["original_carrier"] == typed and data["carrier_mapped"] is True


def test_unknown_carrier_keeps_the_number_via_other_and_the_note(shop, tail, runtime):
    from etsyflow.shops import shop_client

    # What Etsy does with a carrier name it does not know: the tracking code is dropped.
    raw = shop.order()
    shop_client(shop.shop_id).create_receipt_shipment(raw, tracking_code="CX123", carrier_name="Courier Express")
    [dropped] = shop.shipments(raw)
    assert not dropped["tracking_code"]

    # etsyflow sends "other" (tracking kept) and writes carrier and number into the note.
    receipt_id = shop.order()
    data = answer_to(tail, publish(shipped(shop, receipt_id, carrier="Courier Express", tracking="CX 123 456")))
    [on_etsy] = shop.shipments(receipt_id)
    assert on_etsy["carrier_name"] == "other" and on_etsy["tracking_code"] == "CX123456"
    assert data["carrier"] == "other" and data["carrier_fallback"] is True and data["carrier_mapped"] is False
    assert data["original_carrier"] == "Courier Express" and data["tracking_kept"] is True
    [email] = shop.notifications(receipt_id)
    assert email["note_to_buyer"] == "Shipped with Courier Express, tracking number CX123456."


def test_redelivered_event_does_not_ship_twice(shop, tail, runtime):
    receipt_id = shop.order()
    event = shipped(shop, receipt_id)
    # Two deliveries of one message at once, straight to the actor (four worker threads).
    actor = runtime.actors["OrderShipped"]
    actor.send(event.to_dict())
    actor.send(event.to_dict())
    publish(event)  # and once more through the bus
    settled(runtime)
    assert len(shop.shipments(receipt_id)) == 1 and len(shop.notifications(receipt_id)) == 1
    assert len(shop.create_calls()) == 1
    confirmations = tail.of_type("ShipmentConfirmed", lambda e: e.get("causationid") == event.id)
    assert confirmations and len({e["id"] for e in confirmations}) == 1  # one follow-up id, however often said


def test_same_parcel_under_a_new_event_id_is_recognised(shop, tail, runtime):
    receipt_id = shop.order()
    first = publish(shipped(shop, receipt_id, tracking="JC 2431 3788 5GB"))
    answer_to(tail, first)
    again = publish(shipped(shop, receipt_id, tracking="jc243137885gb"))  # same parcel, typed differently
    data = answer_to(tail, again)
    assert data["already_recorded"] is True
    assert len(shop.shipments(receipt_id)) == 1 and len(shop.create_calls()) == 1


def test_a_new_shipment_costs_exactly_one_etsy_call(shop, tail, runtime):
    """Nothing sent before for this parcel: written at once, the receipt is not read."""
    receipt_id = shop.order()
    data = answer_to(tail, publish(shipped(shop, receipt_id)))
    assert data["already_recorded"] is False
    assert len(shop.create_calls(receipt_id)) == 1
    assert shop.read_calls(receipt_id) == []


def test_an_earlier_write_of_unknown_outcome_makes_the_next_attempt_read_first(shop, tail, runtime):
    """A pending record (the answer to a write was lost) → the receipt is read before any write."""
    from etsyflow.fulfilment.ledger import ParcelLedger, parcel_ref

    receipt_id = shop.order()
    ledger = ParcelLedger()
    key = ledger.record_key(shop.shop_id, receipt_id, parcel_ref("JC243137885GB", None))
    ledger.mark_pending(key, "an-earlier-event")  # as a worker killed mid-write leaves it
    ledger.mark_attempt_ended(key)
    data = answer_to(tail, publish(shipped(shop, receipt_id)), timeout=30)  # waits out the settle time
    assert data["already_recorded"] is False  # Etsy did not have it: written once, after the read
    assert len(shop.read_calls(receipt_id)) >= 1
    assert len(shop.create_calls(receipt_id)) == 1 and len(shop.shipments(receipt_id)) == 1


@pytest.mark.parametrize("fault", [
    {"kind": "delay", "delay_seconds": 6},  # Etsy applies it, the answer comes after our 2 s timeout
    {"kind": "drop"},  # Etsy applies it, the connection is cut before the answer
    {"kind": "status", "status": 503},  # Etsy applies it, then answers 503
], ids=["hang", "drop", "503"])
def test_timeout_after_etsy_recorded_the_shipment_gives_exactly_one(shop, tail, runtime, fault):
    receipt_id = shop.order()
    shop.admin.add_fault(operation="createReceiptShipment", when="after", times=1, **fault)
    data = answer_to(tail, publish(shipped(shop, receipt_id)), timeout=30)
    settled(runtime, 30)
    assert data["already_recorded"] is True  # learnt from the receipt, not from the lost answer
    # The held-back answer is logged when it finally goes out; there is never a second call.
    eventually(lambda: shop.create_calls(receipt_id), timeout=10)
    assert len(shop.create_calls(receipt_id)) == 1
    assert len(shop.shipments(receipt_id)) == 1 and len(shop.notifications(receipt_id)) == 1


@pytest.fixture
def settle_seconds():
    """Give a slow Etsy this long (seconds) to show an unknown write, for one test."""
    from etsyflow.config import get_settings, reset_settings

    before = get_settings()
    yield lambda seconds: reset_settings(before.with_overrides(write_settle_seconds=seconds))
    reset_settings(before)


def test_slow_etsy_that_applies_after_our_timeout_is_waited_for(shop, tail, runtime, settle_seconds):
    """Etsy holds the request 7 s and then carries it out; we gave up at 2 s. Dramatiq's first
    retry (2-4 s later) finds no shipment yet: it must wait out the settle time, not write again."""
    settle_seconds(6)
    receipt_id = shop.order()
    shop.admin.add_fault(operation="createReceiptShipment", when="before", times=1, kind="delay",
                         delay_seconds=7)
    data = answer_to(tail, publish(shipped(shop, receipt_id)), timeout=30)
    assert data["already_recorded"] is True
    settled(runtime, 30)
    assert len(shop.create_calls(receipt_id)) == 1
    assert len(shop.shipments(receipt_id)) == 1 and len(shop.notifications(receipt_id)) == 1


def test_failure_before_etsy_applied_is_retried_and_ships_once(shop, tail, runtime):
    receipt_id = shop.order()
    shop.admin.add_fault(operation="createReceiptShipment", when="before", times=1, kind="status", status=503)
    data = answer_to(tail, publish(shipped(shop, receipt_id)), timeout=30)
    assert data["already_recorded"] is False
    assert len(shop.shipments(receipt_id)) == 1
    assert [c["status"] for c in shop.create_calls()] == [503, 200]


def test_two_parcels_of_one_order_become_two_shipments(shop, tail, runtime):
    receipt_id = shop.order()
    one = publish(shipped(shop, receipt_id, tracking="1Z999AA10123456784", carrier="UPS", parcel_id="box-1"))
    two = publish(shipped(shop, receipt_id, tracking="1Z999AA10123456785", carrier="UPS", parcel_id="box-2"))
    first, second = answer_to(tail, one), answer_to(tail, two)
    on_etsy = shop.shipments(receipt_id)
    assert sorted(s["tracking_code"] for s in on_etsy) == ["1Z999AA10123456784", "1Z999AA10123456785"]
    assert first["receipt_shipping_id"] != second["receipt_shipping_id"]
    assert {first["parcel_id"], second["parcel_id"]} == {"box-1", "box-2"}


def test_untracked_parcel_marks_the_order_shipped(shop, tail, runtime):
    receipt_id = shop.order(country_iso="GB")
    data = answer_to(tail, publish(shipped(shop, receipt_id, carrier=None, tracking=None)))
    assert data["tracking_number"] is None and data["carrier_mapped"] is False
    [call] = shop.create_calls()
    assert "tracking_code" not in call["body"] and "carrier_name" not in call["body"]


# -- rejections ----------------------------------------------------------------------------

def test_unknown_receipt_is_rejected(shop, tail, runtime):
    cause = publish(shipped(shop, 3999999999))
    data = answer_to(tail, cause, "ShipmentRejected")
    assert data["shop_id"] == shop.shop_id and data["receipt_id"] == 3999999999
    assert "does not exist" in data["reason"]
    settled(runtime)
    assert [c["status"] for c in shop.create_calls()] == [404]  # written first, refused, not retried
    assert not tail.of_type("ShipmentConfirmed", lambda e: e.get("causationid") == cause.id)


def test_canceled_order_is_rejected(shop, tail, runtime):
    receipt_id = shop.order()
    shop.admin.receipt_action(receipt_id, "cancel")
    data = answer_to(tail, publish(shipped(shop, receipt_id)), "ShipmentRejected")
    assert "canceled" in data["reason"]
    settled(runtime)
    # Written first; Etsy's 409 (the receipt changed) makes it read the receipt to say why.
    assert [c["status"] for c in shop.create_calls(receipt_id)] == [409]
    assert len(shop.read_calls(receipt_id)) == 1 and shop.shipments(receipt_id) == []


def test_missing_tracking_where_etsy_requires_it_is_rejected(shop, tail, runtime):
    receipt_id = shop.order(country_iso="US", currency="USD", items=[{"title": "Lamp", "price": "25.00"}])
    cause = publish(shipped(shop, receipt_id, carrier=None, tracking=None))
    data = answer_to(tail, cause, "ShipmentRejected")
    assert "requires a tracking number" in data["reason"]
    settled(runtime)
    assert len(shop.create_calls(receipt_id)) == 1  # asked once, refused, not retried
    assert shop.shipments(receipt_id) == []
    # The same order with tracking then ships.
    answer_to(tail, publish(shipped(shop, receipt_id, carrier="USPS", tracking="9400111899223197428490")))
    assert len(shop.shipments(receipt_id)) == 1
