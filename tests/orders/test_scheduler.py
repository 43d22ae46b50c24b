"""The scheduler sends one tick per connected shop when due, never doubles, skips shops to reconnect."""

import pytest

from etsyflow.config import get_settings
from etsyflow.orders.config import OrdersConfig
from etsyflow.scheduler import Scheduler
from etsyflow.state import get_redis
from etsyflow.shops.store import ShopStore


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def shops(embedded):
    store = ShopStore()
    for shop_id in (11, 12, 13):
        store.save_tokens(shop_id, f"{shop_id}.a", f"{shop_id}.r", 3600, connected=True)
    store.mark_auth_failed(13, "revoked")
    return store


def scheduler(clock, sent):
    return Scheduler(get_redis(), get_settings(), OrdersConfig(), publish_event=sent.append, clock=clock)


def ticks(events):
    return sorted((e.data["shop_id"], e.data["mode"]) for e in events)


def test_due_ticks_per_usable_shop_then_on_the_interval(shops):
    clock, sent = Clock(), []
    s = scheduler(clock, sent)
    s.run_once()
    assert ticks(sent) == [(11, "incremental"), (11, "reconcile"), (12, "incremental"), (12, "reconcile")]
    assert all(e.type == "OrdersPollTick" and e.source == "etsyflow.scheduler" for e in sent)
    sent.clear()
    s.run_once()
    assert sent == []  # nothing due yet
    clock.now += get_settings().poll_interval_seconds
    s.run_once()
    assert ticks(sent) == [(11, "incremental"), (12, "incremental")]
    sent.clear()
    clock.now += get_settings().reconcile_interval_seconds
    s.run_once()
    assert ticks(sent) == [(11, "incremental"), (11, "reconcile"), (12, "incremental"), (12, "reconcile")]


def test_two_schedulers_never_double_a_tick(shops):
    clock, sent = Clock(), []
    first, standby = scheduler(clock, sent), scheduler(clock, sent)
    for _ in range(3):
        first.run_once()
        standby.run_once()
        clock.now += get_settings().poll_interval_seconds
    # 3 rounds × 2 shops incremental + 1 reconcile each
    assert len([e for e in sent if e.data["mode"] == "incremental"]) == 6
    assert len([e for e in sent if e.data["mode"] == "reconcile"]) == 2


def test_a_failed_publish_is_retried_soon(shops):
    clock, sent = Clock(), []

    def flaky(event):
        if not sent:
            sent.append(None)
            raise ConnectionError("bus down")
        sent.append(event)

    s = Scheduler(get_redis(), get_settings(), OrdersConfig(), publish_event=flaky, clock=clock)
    s.run_once()
    assert len([e for e in sent if e]) == 3  # one of four failed
    clock.now += 6
    s.run_once()
    assert len([e for e in sent if e]) == 4


def test_disconnected_shops_are_dropped_and_new_ones_picked_up(shops):
    clock, sent = Clock(), []
    s = scheduler(clock, sent)
    s.run_once()
    shops.save_tokens(14, "14.a", "14.r", 3600, connected=True)
    shops.mark_auth_failed(12, "password changed")
    sent.clear()
    clock.now += 31  # the shop list is read again every 30 s
    s.run_once()
    assert ticks(sent) == [(14, "incremental"), (14, "reconcile")]


def test_status_records_the_plan(shops):
    clock, sent = Clock(), []
    scheduler(clock, sent).run_once()
    from etsyflow.scheduler import status

    st = status()
    assert st["shops"] == "2" and float(st["poll_interval_seconds"]) == get_settings().poll_interval_seconds
