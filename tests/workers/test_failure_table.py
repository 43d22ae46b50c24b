"""The failure table (etsyflow.workers.failures), one test per row, on Dramatiq's StubBroker.

Each test declares the real actors on a StubBroker (with etsyflow's middleware)
and runs a real Dramatiq Worker; only the handler of StockChanged is replaced
by one that fails the way the row says. What a subscriber sees is read from
the bus with an EventTail.
"""

from __future__ import annotations

import pytest

from etsyflow.etsy.errors import AuthFailed, RateLimited
from etsyflow.messages import CloudEvent, EventType, Refused, RetryLater
from etsyflow.workers import parked_count, replay_parked
from etsyflow.workers import registry
from etsyflow.workers.failures import MAX_PARK_SECONDS
from etsyflow.workers.options import ACTOR_OPTIONS
from tests.waiting import wait_for

SHOP = 5
CONNECTED_SHOP = SHOP
STOCK_QUEUE = ACTOR_OPTIONS[EventType.STOCK_CHANGED]["queue_name"]



@pytest.fixture
def handler_does():
    """``handler_does(*outcomes)``: StockChanged's handler raises each outcome in turn, then succeeds."""
    original = registry.handler_for(EventType.STOCK_CHANGED)
    calls: list[dict] = []

    def install(*outcomes):
        script = list(outcomes)

        def handle(ctx):
            calls.append(ctx.data)
            if script:
                raise script.pop(0)
            ctx.emit(EventType.STOCK_UPDATED, {"shop_id": ctx.data["shop_id"], "sku": ctx.data["sku"],
                                              "quantity": ctx.data["quantity"]})

        registry._handlers[EventType.STOCK_CHANGED] = registry.Handler(original.entry, handle)
        return calls

    yield install
    registry._handlers[EventType.STOCK_CHANGED] = original


def stock_event(sku: str = "MUG-1") -> CloudEvent:
    return CloudEvent.new(EventType.STOCK_CHANGED, {"shop_id": SHOP, "sku": sku, "quantity": 3}, source="test")


def test_a_permanent_refusal_publishes_the_rejection_and_is_not_retried(stub, handler_does, tail):
    broker, actors, _ = stub
    calls = handler_does(Refused("no Etsy listing has SKU 'MUG-1'"))
    event = stock_event()
    actors[EventType.STOCK_CHANGED].send(event.to_dict())
    broker.join(STOCK_QUEUE, timeout=10_000, fail_fast=False)

    rejected = tail.wait_for(EventType.STOCK_REJECTED)[0]
    assert rejected["data"] == {"shop_id": SHOP, "sku": "MUG-1", "quantity": 3,
                                "reason": "no Etsy listing has SKU 'MUG-1'"}
    assert rejected["causationid"] == event.id
    assert len(calls) == 1 and broker.dead_letters == []


def test_a_spent_daily_quota_parks_the_message_with_a_delay_and_spends_no_retry(stub, handler_does):
    broker, actors, enqueued = stub
    calls = handler_does(RateLimited("daily quota used up", daily=True, retry_after_seconds=7200))
    actors[EventType.STOCK_CHANGED].send(stock_event().to_dict())

    def parked():
        return [(m, d) for m, d in enqueued.sent if d]

    wait_for(parked, what="the re-enqueue with a delay")
    message, delay = parked()[0]
    assert delay == 7200 * 1000  # milliseconds, under the cap
    assert 7200 <= MAX_PARK_SECONDS
    assert message.options.get("retries", 0) == 0  # a fresh message: no retry spent
    assert len(calls) == 1 and broker.dead_letters == []


def test_a_revoked_shop_parks_the_message_and_its_reconnection_replays_it(stub, handler_does, tail):
    broker, actors, _ = stub
    calls = handler_does(AuthFailed(SHOP, "invalid_grant: the seller revoked the app"))
    actors[EventType.STOCK_CHANGED].send(stock_event().to_dict())
    broker.join(STOCK_QUEUE, timeout=10_000, fail_fast=False)
    assert parked_count(SHOP) == 1 and len(calls) == 1

    assert replay_parked(SHOP) == 1
    broker.join(STOCK_QUEUE, timeout=10_000, fail_fast=False)
    tail.wait_for(EventType.STOCK_UPDATED)
    assert parked_count(SHOP) == 0 and len(calls) == 2


def test_retry_later_retries_after_the_given_seconds(stub, handler_does, tail):
    broker, actors, enqueued = stub
    calls = handler_does(RetryLater(0.2, "waiting for Etsy to show an earlier write"))
    actors[EventType.STOCK_CHANGED].send(stock_event().to_dict())
    tail.wait_for(EventType.STOCK_UPDATED)
    broker.join(STOCK_QUEUE, timeout=10_000, fail_fast=False)

    assert len(calls) == 2 and broker.dead_letters == []
    retries = [delay for message, delay in enqueued.sent if message.options.get("retries") and delay]
    assert retries == [200]  # milliseconds: the RetryLater's 0.2 s


def test_an_unexpected_error_is_retried_then_dead_lettered_with_a_notice(stub, handler_does, tail):
    broker, actors, _ = stub
    calls = handler_does(*[RuntimeError("Etsy answered 503") for _ in range(5)])
    event = stock_event()
    # The actor's own backoff is 2 s to 10 min, 12 times; this message asks for one quick retry.
    actors[EventType.STOCK_CHANGED].send_with_options(args=(event.to_dict(),), max_retries=1,
                                                      min_backoff=10, max_backoff=10)
    notice = tail.wait_for(EventType.STOCK_REJECTED, timeout=15)[0]
    broker.join(STOCK_QUEUE, timeout=10_000, fail_fast=False)

    assert len(calls) == 2 and len(broker.dead_letters) == 1
    assert notice["causationid"] == event.id
    assert notice["data"]["reason"].startswith("gave up after 2 attempts: RuntimeError: Etsy answered 503")


def test_the_actors_take_the_contract_tables_options():
    from etsyflow.messages.contract import CONTRACT

    stock = ACTOR_OPTIONS[EventType.STOCK_CHANGED]
    assert stock == {"queue_name": "etsyflow.stock", "max_retries": 12, "min_backoff": 2000,
                     "max_backoff": 600_000, "time_limit": 300_000}
    assert set(ACTOR_OPTIONS) == set(CONTRACT)
