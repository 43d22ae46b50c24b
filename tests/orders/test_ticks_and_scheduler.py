"""Ticks pile up while a poll runs: the shop is polled once at a time and most ticks cost nothing.
The scheduler process brings new orders without anyone publishing a tick."""

import threading
from datetime import datetime, timedelta, timezone

import pytest

from etsyflow.messages import CloudEvent, publish

from .conftest import orders, polls_done, tick, wait_until

pytestmark = pytest.mark.integration


def intervals(calls):
    """(start, end) of each call, seconds."""
    return sorted((c["time"] - c["duration_ms"] / 1000.0, c["time"]) for c in calls)


def test_piled_up_ticks_never_poll_a_shop_twice_at_once(shop, tail, runtime):
    shop.bulk(20)
    shop.admin.add_fault(operation="getShopReceipts", kind="delay", delay_seconds=0.3)  # a slow Etsy
    for _ in range(20):
        tick(shop.shop_id)
    tail.wait_for("OrderDownloaded", count=20, timeout=30)
    assert runtime.join(timeout=30)
    calls = intervals(shop.list_calls())
    assert all(later[0] >= earlier[1] - 0.005 for earlier, later in zip(calls, calls[1:])), calls
    assert polls_done(shop.shop_id) <= 8  # 20 ticks, 4 worker threads: most were dropped
    assert len(orders(tail)) == 20


def test_stale_tick_is_dropped_without_a_call(shop, tail, runtime):
    shop.bulk(3)
    old = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    event = CloudEvent.new("OrdersPollTick", {"shop_id": shop.shop_id}, source="test")
    publish(CloudEvent(type=event.type, data=event.data, id=event.id, source="test", time=old))
    wait_until(lambda: tail.of_type("OrdersPollTick"), what="the tick on the bus")
    assert runtime.join(timeout=20)
    assert shop.list_calls() == [] and orders(tail) == []


def test_scheduler_brings_new_orders_without_a_manual_tick(configure, redis_url, sandbox, shop, tail, runtime):
    from etsyflow.orders.config import OrdersConfig
    from etsyflow.scheduler import Scheduler, status
    from etsyflow.shops.store import ShopStore

    configure(REDIS_URL=redis_url, **sandbox.env(), POLL_INTERVAL_SECONDS="1", RECONCILE_INTERVAL_SECONDS="600")
    receipt_id = shop.order()
    stop = threading.Event()
    thread = threading.Thread(target=Scheduler(config=OrdersConfig()).run, args=(stop,), daemon=True)
    thread.start()
    try:
        tail.wait_for("OrderDownloaded", lambda e: e["data"]["order"]["receipt_id"] == receipt_id, timeout=10)
        wait_until(lambda: ShopStore().get(shop.shop_id).last_poll_at, what="the poll recorded")
        wait_until(lambda: polls_done(shop.shop_id, "reconcile"), what="the first reconcile")
    finally:
        stop.set()
        thread.join(10)
    st = status()
    assert st["shops"] == "1"
    # Etsy (the sandbox) reports 10,000 calls a day; half is for polling: one shop every second
    # (86,400 calls a day) does not fit, so the scheduler stretched the interval.
    # A poll costs 2 calls (modified receipts, then canceled ones).
    assert float(st["poll_interval_seconds"]) == pytest.approx(2 * 86400 / (5000 - 2 * 86400 / 600), rel=0.01)
    assert "share" in st["reason"]
    ticks = tail.of_type("OrdersPollTick")
    assert {e["source"] for e in ticks} == {"etsyflow.scheduler"}
    assert sorted(e["data"].get("mode") for e in ticks) == ["incremental", "reconcile"]  # not every second
