"""An event travels bus → bridge → actor → follow-up, on embedded parts and on real Redis."""

import json

import pytest

from etsyflow.messages import CloudEvent, publish, publish_raw

STOCK = {"shop_id": 7, "sku": "MUG-1", "quantity": 3}


def test_valid_event_reaches_etsy_and_its_follow_up_arrives_embedded(embedded_shop, sandbox, tail, runtime):
    # The shop has no listing with this SKU: the actor asks Etsy, then answers.
    cause = publish(CloudEvent.new("StockChanged", dict(STOCK, shop_id=embedded_shop), source="pim"))
    [follow_up] = tail.wait_for("StockRejected", timeout=15)
    assert follow_up["source"] == "etsyflow"
    assert follow_up["causationid"] == cause.id
    assert follow_up["data"]["sku"] == "MUG-1" and "MUG-1" in follow_up["data"]["reason"]
    assert sandbox.admin.counters()["calls_by_operation"].get("getListingsByShop", 0) >= 1


def test_invalid_event_is_rejected_with_every_field_error(embedded, tail, runtime):
    bad = CloudEvent.new("ListingReady", {"shop_id": "x", "price": 9.99}, source="pim")
    publish(bad)
    [rejection] = tail.wait_for("EventRejected", timeout=10)
    assert rejection["data"]["id"] == bad.id
    assert rejection["data"]["type"] == "ListingReady"
    fields = {e["field"] for e in rejection["data"]["errors"]}
    assert {"data.shop_id", "data.price", "data.title", "data.product_id"} <= fields
    price = next(e for e in rejection["data"]["errors"] if e["field"] == "data.price")
    assert "decimal string" in price["message"]


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (json.dumps({"specversion": "1.0", "type": "NoSuchThing", "source": "x", "id": "1", "data": {}}).encode(),
     "unknown event type"),
    (json.dumps({"type": "StockChanged", "data": {}}).encode(), "Missing data"),
])
def test_undecodable_and_unknown_bodies_are_answered(embedded, tail, runtime, body, message):
    publish_raw(body, "Whatever")
    [rejection] = tail.wait_for("EventRejected", timeout=10)
    assert any(message in e["message"] for e in rejection["data"]["errors"]), rejection


def test_oversized_event_is_rejected(embedded, configure, tail):
    from etsyflow.runtime import Runtime

    configure(MAX_EVENT_BYTES="2048")
    with Runtime(worker_threads=1):
        data = dict(STOCK, sku="A" * 10, padding="x" * 4000)
        publish(CloudEvent.new("StockChanged", data, source="pim"))
        [rejection] = tail.wait_for("EventRejected", timeout=10)
    assert "limit is 2048" in rejection["data"]["errors"][0]["message"]


@pytest.mark.integration
def test_outside_system_publishes_over_real_redis(redis_shop, redis_url):
    """A non-Python publisher: plain JSON on the topic exchange via kombu's redis transport."""
    from kombu import Connection, Exchange

    from etsyflow.messages.tail import EventTail
    from etsyflow.runtime import Runtime

    with EventTail() as tail, Runtime(worker_threads=2):
        body = json.dumps({"specversion": "1.0", "type": "StockChanged", "source": "wms", "id": "wms-42",
                           "time": "2026-11-29T12:00:00Z", "datacontenttype": "application/json",
                           "data": dict(STOCK, shop_id=redis_shop)})
        with Connection(redis_url) as conn:
            # kombu emulates exchanges on Redis: a publisher declares the topic exchange.
            exchange = Exchange("etsyflow.events", type="topic", durable=True)
            conn.Producer().publish(body, exchange=exchange, declare=[exchange],
                                    routing_key="StockChanged", content_type="application/json")
        [follow_up] = tail.wait_for("StockRejected", timeout=15)
    assert follow_up["causationid"] == "wms-42"


def test_invalid_listing_also_answers_with_listing_rejected(embedded, tail, runtime):
    data = {"shop_id": 5, "product_id": "P-9", "title": "Mug", "description": "d", "price": "5.00", "rrp": "4.00",
            "currency": "GBP", "quantity": 1, "taxonomy_id": 1, "who_made": "i_did", "when_made": "made_to_order",
            "delivery_template_id": "T", "state": "draft", "images": [{"url": f"https://media.example.com/{i}.png"} for i in range(11)]}
    bad = publish(CloudEvent.new("ListingReady", data, source="pim"))
    [typed] = tail.wait_for("ListingRejected", timeout=10)
    [generic] = tail.wait_for("EventRejected", timeout=10)
    assert typed["causationid"] == generic["data"]["id"] == bad.id
    assert typed["data"]["product_id"] == "P-9"
    assert "at most 10 images" in typed["data"]["reason"]
