"""An event is validated once: by the bridge, which hands its actor the loaded data.

Messages that did not come through the bridge (a direct send, a replayed
parked message, one whose hand-over is unreadable) are validated by the actor,
as before. Real actors on Dramatiq's StubBroker with a real Worker; only the
handler of ListingReady is replaced by one that records what it got.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from etsyflow.bridge import Bridge
from etsyflow.messages import CloudEvent, EventType
from etsyflow.schemas.loaded import pack, unpack
from etsyflow.workers import registry
from etsyflow.workers.options import ACTOR_OPTIONS

CONNECTED_SHOP = 3
QUEUE = ACTOR_OPTIONS[EventType.LISTING_READY]["queue_name"]
LISTING = {"shop_id": 3, "product_id": "P1", "title": "Mug", "description": "A mug", "price": "12.50",
           "currency": "GBP", "quantity": 4, "taxonomy_id": 1, "who_made": "i_did",
           "when_made": "made_to_order", "delivery_template_id": "T1", "state": "draft",
           "variations": [{"sku": "M-1", "options": {"Size": "S"}, "price": "12.50", "quantity": 2},
                          {"sku": "M-2", "options": {"Size": "L"}, "price": "14", "quantity": 2}]}



@pytest.fixture
def handled():
    """What ListingReady's handler was given, one ``ctx.data`` per call."""
    original = registry.handler_for(EventType.LISTING_READY)
    calls: list[dict] = []
    registry._handlers[EventType.LISTING_READY] = registry.Handler(original.entry, lambda ctx: calls.append(ctx.data))
    yield calls
    registry._handlers[EventType.LISTING_READY] = original


def test_the_bridge_hands_over_the_loaded_data_and_the_actor_uses_it(stub, handled):
    broker, actors, enqueued = stub
    event = CloudEvent.new(EventType.LISTING_READY, LISTING, source="pim")
    assert Bridge(None, actors).handle(event.to_json()) == "forwarded"
    broker.join(QUEUE, timeout=10_000)

    [message] = enqueued.messages
    assert message.kwargs["loaded"]["decimals"]  # the money amounts travel as strings, and where they were
    [data] = handled
    assert data["price"] == Decimal("12.50")
    assert [v["price"] for v in data["variations"]] == [Decimal("12.50"), Decimal("14")]
    assert data["state"] == "draft" and data["variations"][0]["options"] == {"Size": "S"}


def test_the_actor_does_not_validate_what_the_bridge_validated(stub, handled):
    """The actor takes the handed-over data as it is (no second load: the marker survives)."""
    broker, actors, _ = stub
    event = CloudEvent.new(EventType.LISTING_READY, LISTING, source="pim")
    loaded = dict(LISTING, price=Decimal("12.50"), validated_by="the bridge")
    actors[EventType.LISTING_READY].send_with_options(args=(event.to_dict(),), kwargs={"loaded": pack(loaded)})
    broker.join(QUEUE, timeout=10_000)
    assert handled == [loaded]


def test_an_event_sent_straight_to_the_actor_is_still_validated(stub, handled, tail):
    broker, actors, _ = stub
    bad = CloudEvent.new(EventType.LISTING_READY, dict(LISTING, price=9.99), source="pim")
    actors[EventType.LISTING_READY].send(bad.to_dict())
    broker.join(QUEUE, timeout=10_000)

    [rejection] = tail.wait_for(EventType.EVENT_REJECTED)
    assert rejection["data"]["id"] == bad.id
    assert any(e["field"] == "data.price" for e in rejection["data"]["errors"])
    assert handled == []


def test_an_unreadable_hand_over_falls_back_to_validation(stub, handled, tail):
    broker, actors, _ = stub
    bad = CloudEvent.new(EventType.LISTING_READY, dict(LISTING, quantity="many"), source="pim")
    actors[EventType.LISTING_READY].send_with_options(args=(bad.to_dict(),), kwargs={"loaded": {"data": "x"}})
    broker.join(QUEUE, timeout=10_000)

    [rejection] = tail.wait_for(EventType.EVENT_REJECTED)
    assert any(e["field"] == "data.quantity" for e in rejection["data"]["errors"])
    assert handled == []


def test_packed_data_stays_json_after_unpacking():
    """A retried message is encoded again: unpacking must not put Decimals into it."""
    data = {"price": Decimal("2.50"), "v": [{"price": Decimal("1"), "o": {"$decimal": "x"}}], "n": None}
    packed = json.loads(json.dumps(pack(data)))
    assert unpack(packed) == data
    assert json.loads(json.dumps(packed)) == packed and packed["data"]["price"] == "2.50"


def test_data_of_other_python_types_is_not_packed():
    from datetime import date

    assert pack({"when": date(2026, 1, 1)}) is None
    assert pack({1: "int key"}) is None
