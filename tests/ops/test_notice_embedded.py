"""The dead-letter middleware on the embedded parts: notices, records, and messages dropped unrun."""

from __future__ import annotations

from etsyflow.messages import CloudEvent, publish

from .conftest import eventually


def test_a_message_dropped_unrun_is_recorded_without_a_notice(embedded, tail, runtime):
    from etsyflow.ops import DeadLetterQueue

    tick = CloudEvent.new("OrdersPollTick", {"shop_id": 5}, source="scheduler")
    # AgeLimit drops a message older than max_age (ms) before it runs: Dramatiq dead-letters it
    runtime.actors["OrdersPollTick"].send_with_options(args=(tick.to_dict(),), max_age=1, delay=50)
    [letter] = eventually(lambda: DeadLetterQueue().list(), what="the dropped tick in the dead-letter queue")
    assert letter.event_id == tick.id and letter.actor == "on_OrdersPollTick"
    assert letter.last_error == "dropped before running: older than its max_age"
    # The middleware decided (record saved) in one call with any notice; a marker published now
    # arrives after anything it published: once the tail has the marker, a notice would be there.
    marker = publish(CloudEvent.new("EventRejected", {"type": "marker", "id": "marker", "errors": []}, source="test"))
    tail.wait_for("EventRejected", lambda e: e["id"] == marker.id)
    assert not [e for e in tail.events if e.get("causationid") == tick.id]  # nothing to tell: it never ran


def test_an_actor_without_its_own_rejection_sends_event_rejected(embedded_shop, sandbox, tail, runtime):
    from etsyflow.ops import DeadLetterQueue, Selection

    sandbox.admin.add_fault(operation="getShopReceipts", kind="status", status=503)
    tick = CloudEvent.new("OrdersPollTick", {"shop_id": embedded_shop}, source="scheduler")
    runtime.actors["OrdersPollTick"].send_with_options(args=(tick.to_dict(),), max_retries=0)
    [notice] = tail.wait_for("EventRejected", lambda e: e.get("causationid") == tick.id, timeout=30)
    assert notice["data"]["id"] == tick.id and notice["data"]["type"] == "OrdersPollTick"
    message = notice["data"]["errors"][0]["message"]
    assert message.startswith("gave up after 1 attempt: ") and "503" in message and "etsyflow dlq" in message
    [letter] = eventually(lambda: DeadLetterQueue().list(Selection(actor="OrdersPollTick")), what="the letter")
    assert letter.retries == 1 and letter.shop_id == embedded_shop and "503" in letter.last_error


def test_the_notice_is_sent_even_when_the_bus_refused_it_at_first(embedded_shop, sandbox, tail, runtime,
                                                                   monkeypatch):
    """The dead-letter notice is part of the message's outcome: a bus that refuses it (connection
    lost) keeps the message unacknowledged; the notice goes out once the bus takes it."""
    import importlib

    import kombu.exceptions

    publishing = importlib.import_module("etsyflow.messages.publish")

    real = publishing.publish_raw
    refused = []

    def bus_away_once(body, routing_key, **kwargs):
        if routing_key == "EventRejected" and not refused:
            refused.append(routing_key)
            raise kombu.exceptions.OperationalError("bus connection lost")
        return real(body, routing_key, **kwargs)

    monkeypatch.setattr(publishing, "publish_raw", bus_away_once)
    sandbox.admin.add_fault(operation="getShopReceipts", kind="status", status=503)
    tick = CloudEvent.new("OrdersPollTick", {"shop_id": embedded_shop}, source="scheduler")
    runtime.actors["OrdersPollTick"].send_with_options(args=(tick.to_dict(),), max_retries=0)
    [notice] = tail.wait_for("EventRejected", lambda e: e.get("causationid") == tick.id, timeout=30)
    assert refused == ["EventRejected"]
    assert notice["data"]["id"] == tick.id
