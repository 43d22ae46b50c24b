"""A worker killed in the middle of a page: after redelivery every order is published exactly once.

A real ``dramatiq`` worker process polls 250 receipts (3 pages); the test
freezes it (SIGSTOP) at a moment when it has recorded a number of receipts
that is not a whole page, then kills it (SIGKILL). The tick is still
unacknowledged in Redis; a fresh worker (production settings) takes it back
once the dead one's heartbeat has lapsed and polls again. Fingerprints make the receipts already published
silent; one published but not yet recorded is published again under the same
event id, so a subscriber that drops repeated ids sees each order once.
"""

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict

import pytest

from etsyflow.messages import CloudEvent
from etsyflow.orders.store import OrderState

from .conftest import TEST_SECRET_KEY, drain

pytestmark = pytest.mark.integration

LOCK_TTL = "2"


def start_worker(redis_url, sandbox, log_path):
    env = dict(os.environ, REDIS_URL=redis_url, SECRET_KEY=TEST_SECRET_KEY, ORDERS_LOCK_TTL_SECONDS=LOCK_TTL,
               ETSY_TIMEOUT_SECONDS="5", LOG_LEVEL="WARNING", **sandbox.env())
    return subprocess.Popen([sys.executable, "-m", "dramatiq", "etsyflow.workers.main", "--processes", "1",
                             "--threads", "1", "--queues", "etsyflow.orders"],
                            env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def freeze_mid_page(proc, state, timeout=60.0) -> int:
    """SIGSTOP the worker in the middle of its second page; returns how many receipts it recorded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "worker exited early"
        seen = state.seen_count()
        if 100 < seen < 200:
            os.killpg(proc.pid, signal.SIGSTOP)
            seen = state.seen_count()
            if 100 < seen < 200:
                return seen
            os.killpg(proc.pid, signal.SIGCONT)
        time.sleep(0.0005)
    raise TimeoutError("the worker never stood in the middle of a page")


def test_worker_killed_mid_page_then_every_order_exactly_once(shop, sandbox, redis_url, tail, tmp_path, monkeypatch):
    from etsyflow.workers.broker import build_broker
    from etsyflow.workers.options import HEARTBEAT_TIMEOUT
    from etsyflow.runtime import Runtime
    from etsyflow.workers import setup

    from etsyflow.config import OrdersConfig, get_settings, reset_settings

    reset_settings(get_settings().with_overrides(orders=OrdersConfig(lock_ttl_seconds=float(LOCK_TTL))))
    ids = shop.bulk(250, step_seconds=1)
    state = OrderState(shop.shop_id)
    proc = start_worker(redis_url, sandbox, tmp_path / "worker.log")
    try:
        producer = build_broker()
        actors = setup(producer)
        actors["OrdersPollTick"].send(CloudEvent.new("OrdersPollTick", {"shop_id": shop.shop_id}, source="test").to_dict())
        recorded = freeze_mid_page(proc, state)
        cursor_at_kill = state.cursor()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert 100 < recorded < 200, "killed in the middle of the second page"
    # the first page is complete, so the cursor stands at its newest receipt; not beyond
    assert cursor_at_kill == shop.admin.receipt(ids[99])["receipt"]["updated_timestamp"]
    print(f"killed after {recorded} of {len(ids)} receipts recorded; cursor then {cursor_at_kill}")
    # A worker silent for the heartbeat timeout is dead: the upkeep of the new worker puts its
    # unacked tick back in the queue. (The killed worker's poll lock, 2 s, has lapsed by then.)
    with Runtime(broker=build_broker(), bridge=False, worker_threads=1):
        tail.wait_for("OrderDownloaded", lambda e: e["data"]["shop_id"] == shop.shop_id, count=len(ids),
                      timeout=2 * HEARTBEAT_TIMEOUT / 1000 + 30)
        # the redelivered poll has finished when every receipt is recorded and the lock is free
        deadline = time.monotonic() + 30
        while (state.seen_count() < len(ids) or state.is_locked()) and time.monotonic() < deadline:
            time.sleep(0.05)
        drain(tail)
    events = [e for e in tail.of_type("OrderDownloaded") if e["data"]["shop_id"] == shop.shop_id]
    ids_by_receipt = defaultdict(set)
    for e in events:
        ids_by_receipt[e["data"]["order"]["receipt_id"]].add(e["id"])
    assert sorted(ids_by_receipt) == sorted(ids)  # nothing lost
    assert all(len(v) == 1 for v in ids_by_receipt.values())  # a repeat carries the same id
    assert len(events) <= len(ids) + 1  # at most the one in flight at the kill is sent twice
    print(f"{len(events)} OrderDownloaded for {len(ids)} receipts after redelivery")
