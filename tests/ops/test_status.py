"""`etsyflow status` counts what is really in the broker and the state store."""

from __future__ import annotations

import time

import pytest

from etsyflow.messages import CloudEvent

from .conftest import cli, cli_json

pytestmark = pytest.mark.integration


def envelope(event_type, **data) -> dict:
    return CloudEvent.new(event_type, data, source="test").to_dict()


def test_status_matches_the_broker_the_shops_and_the_quota(ops_shop, sandbox, redis_url):
    import redis
    from dramatiq.brokers.redis import RedisBroker

    from etsyflow.workers.broker import add_middleware, build_broker
    from etsyflow.etsy.ratelimit import RateLimiter
    from etsyflow.orders.store import OrderState
    from etsyflow.shops import ShopStore
    from etsyflow.workers import park, setup

    broker = build_broker()
    actors = setup(broker)
    # ready: 3 stock messages nobody consumes
    for quantity in range(3):
        actors["StockChanged"].send(envelope("StockChanged", shop_id=ops_shop, sku="MUG-1", quantity=quantity))
    # delayed: 2 listings due in a minute
    for n in range(2):
        actors["ListingReady"].send_with_options(args=(envelope("ListingReady", shop_id=ops_shop),), delay=60_000)
    # in flight: a live worker fetched 2 of 3 ticks
    for _ in range(3):
        actors["OrdersPollTick"].send(envelope("OrdersPollTick", shop_id=ops_shop))
    consumer = broker.consume("etsyflow.orders", prefetch=2, timeout=100)
    held = next(consumer)
    assert held is not None
    # held by a dead worker: fetched, then its heartbeat stopped 2 minutes ago
    ghost = RedisBroker(url=redis_url)
    add_middleware(ghost)
    actors["OrderShipped"].send(envelope("OrderShipped", shop_id=ops_shop))
    actors["OrderShipped"].send(envelope("OrderShipped", shop_id=ops_shop))
    ghost_consumer = ghost.consume("etsyflow.fulfilment", prefetch=1, timeout=100)
    assert next(ghost_consumer) is not None
    client = redis.Redis.from_url(redis_url)
    seconds, micros = client.time()
    client.zadd("dramatiq:__heartbeats__", {ghost.broker_id: seconds * 1000 + micros // 1000 - 120_000})
    # dead-lettered: the second fulfilment message, failed by a worker
    dead = broker.consume("etsyflow.fulfilment", prefetch=1, timeout=100)
    message = next(dead)
    message.fail()
    dead.nack(message)
    # the shop: polled 5 minutes ago, cursor, two messages parked while it was disconnected
    polled_at = time.time() - 300
    ShopStore().mark_polled(ops_shop, at=polled_at)
    OrderState(ops_shop).advance_cursor(1_764_000_000)
    park(ops_shop, "StockChanged", envelope("StockChanged", shop_id=ops_shop, sku="A", quantity=1))
    park(ops_shop, "StockChanged", envelope("StockChanged", shop_id=ops_shop, sku="B", quantity=1))
    # the quota: three calls taken
    limiter = RateLimiter()
    used_before = limiter.used_today()
    for _ in range(3):
        limiter.release(limiter.acquire())

    report = cli_json("status")

    queues = {q["queue"]: q for q in report["queues"]}
    assert queues["etsyflow.stock"] == {"queue": "etsyflow.stock", "ready": 3, "in_flight": 0, "delayed": 0,
                                        "dead": 0, "orphaned": 0, "orphans_return_at": None}
    assert queues["etsyflow.listings"]["delayed"] == 2 and queues["etsyflow.listings"]["ready"] == 0
    assert (queues["etsyflow.orders"]["ready"], queues["etsyflow.orders"]["in_flight"]) == (1, 2)
    fulfilment = queues["etsyflow.fulfilment"]
    back = fulfilment.pop("orphans_return_at")
    assert fulfilment == {"queue": "etsyflow.fulfilment", "ready": 0, "in_flight": 0, "delayed": 0, "dead": 1,
                          "orphaned": 1}
    # its heartbeat is 2 minutes old: the next upkeep of any worker returns it (one beat, 5 s)
    assert time.time() - 1 <= back <= time.time() + 6
    [shop] = report["shops"]
    expected_expiry = ShopStore().get(ops_shop).expires_at
    assert shop["shop_id"] == ops_shop and shop["token_status"] == "ok"
    assert shop["token_expires_at"] == pytest.approx(expected_expiry) and expected_expiry > time.time()
    assert shop["last_poll_at"] == pytest.approx(polled_at)
    assert shop["order_cursor"] == 1_764_000_000 and shop["parked"] == 2 and shop["dead_lettered"] == 1
    quota = report["quota"]
    assert quota["used_today"] == used_before + 3
    assert quota["remaining_today"] == quota["effective_per_day"] - used_before - 3

    text = cli("status")
    print(text)
    assert "etsyflow.orders" in text and "2 (+0" not in text
    fulfilment_line = next(line for line in text.splitlines() if "etsyflow.fulfilment" in line)
    assert "held by dead workers, back in the queue within " in fulfilment_line
    assert "1 dead-lettered message(s)" in text and "etsyflow dlq list" in text
    shop_line = next(line for line in text.splitlines() if line.strip().startswith(str(ops_shop)))
    assert "ok, expires 20" in shop_line and "5 min ago" in shop_line and "2025-11-24 16:00:00Z" in shop_line
    assert f"remaining today: {quota['remaining_today']} of {quota['effective_per_day']}" in text
    consumer.close()
    ghost_consumer.close()
    dead.close()


def test_status_shows_a_shop_to_reconnect_and_refuses_embedded(ops_shop, configure):
    from etsyflow.shops import ShopStore

    ShopStore().mark_auth_failed(ops_shop, "the seller revoked etsyflow's access")
    text = cli("status")
    assert "auth_failed" in text and f"etsyflow shop connect --shop-id {ops_shop}" in text
    assert "revoked" in text
    configure()  # embedded: nothing shared to look at
    from click.testing import CliRunner

    from etsyflow.cli import main

    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 1 and "set REDIS_URL" in result.output
