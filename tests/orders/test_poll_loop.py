"""The poll loop against a scripted getShopReceipts: calls, cursor, overlap, crashes, changes."""

import pytest

from etsyflow.messages import CloudEvent
from etsyflow.orders.config import OrdersConfig
from etsyflow.orders.poll import Poller
from etsyflow.orders.store import OrderState
from etsyflow.state import get_redis

from .fake_etsy import FakeReceipts
from .test_changes import REFUND, SHIPMENT

SHOP = 31000001


class Bus:
    def __init__(self):
        self.events = []
        self.fail_after: int | None = None

    def __call__(self, event):
        if self.fail_after is not None and len(self.events) >= self.fail_after:
            raise ConnectionError("worker killed")
        self.events.append(event)

    def of(self, kind):
        return [e for e in self.events if e.type == kind]


@pytest.fixture
def etsy():
    return FakeReceipts()


@pytest.fixture
def bus():
    return Bus()


def poll(etsy, bus, mode="incremental", *, tick=None, now=None, **config):
    state = OrderState(SHOP, get_redis())
    assert state.acquire(60)
    try:
        clock = (lambda: now) if now is not None else (lambda: etsy.clock + 1)
        poller = Poller(SHOP, etsy, state, OrdersConfig(**config), publish=bus,
                        cause=tick or CloudEvent.new("OrdersPollTick", {"shop_id": SHOP}), clock=clock)
        return poller.run(mode)
    finally:
        state.release()


def test_250_new_receipts_in_3_calls_and_one_for_cancellations(embedded, etsy, bus):
    etsy.add(250)
    result = poll(etsy, bus)
    assert result.calls == 4 and result.downloaded == 250
    assert len({e.data["order"]["receipt_id"] for e in bus.of("OrderDownloaded")}) == 250


def test_1000_receipts_spread_over_time_in_10_calls_and_one_for_cancellations(embedded, etsy, bus):
    etsy.add(1000, step=3)
    etsy.clock += 3000
    result = poll(etsy, bus)
    assert result.calls == 11 and result.downloaded == 1000


def test_idle_tick_is_two_calls_and_silent(embedded, etsy, bus):
    etsy.add(30)
    poll(etsy, bus)
    bus.events.clear()
    result = poll(etsy, bus)
    assert result.calls == 2 and bus.events == []
    assert result.unchanged == 30  # re-read inside the overlap, recognised by fingerprint


def test_receipt_on_the_cursor_boundary_is_neither_lost_nor_doubled(embedded, etsy, bus):
    [first] = etsy.add(1, at=etsy.clock)
    poll(etsy, bus)
    assert OrderState(SHOP, get_redis()).cursor() == etsy.clock
    [late] = etsy.add(1, at=etsy.clock)  # same second as the cursor, visible only now
    poll(etsy, bus)
    downloaded = [e.data["order"]["receipt_id"] for e in bus.of("OrderDownloaded")]
    assert downloaded == [first, late]


def test_late_visible_receipt_inside_the_overlap_is_caught(embedded, etsy, bus):
    etsy.add(5)
    poll(etsy, bus)
    [lagging] = etsy.add(1, at=etsy.clock - 100)  # modified 100 s before the cursor, shown late
    poll(etsy, bus, overlap_seconds=120)
    assert bus.of("OrderDownloaded")[-1].data["order"]["receipt_id"] == lagging


def test_crash_mid_page_then_redelivery_publishes_every_order_once_with_the_same_ids(embedded, etsy, bus):
    etsy.add(250)
    tick = CloudEvent.new("OrdersPollTick", {"shop_id": SHOP})
    bus.fail_after = 150  # dies half-way through the second page
    with pytest.raises(ConnectionError):
        poll(etsy, bus, tick=tick)
    state = OrderState(SHOP, get_redis())
    assert state.seen_count() == 150
    bus.fail_after = None
    poll(etsy, bus, tick=tick)  # the redelivered tick
    ids = {e.data["order"]["receipt_id"] for e in bus.of("OrderDownloaded")}
    assert len(ids) == 250 and len(bus.events) == 250


def test_a_different_tick_republishing_an_unrecorded_order_uses_the_same_event_id(embedded, etsy, bus):
    etsy.add(3)
    first = Bus()
    first.fail_after = 1
    # publish succeeds, then the worker dies before recording: simulate by publishing without recording
    state = OrderState(SHOP, get_redis())
    with pytest.raises(ConnectionError):
        poll(etsy, first)
    lost_id = first.events[0].id
    state.redis.hdel(state.keys["seen"], str(first.events[0].data["order"]["receipt_id"]))
    poll(etsy, bus)  # the next scheduled tick, another id
    assert lost_id in {e.id for e in bus.events}
    assert len(bus.events) == 3


def test_cursor_moves_only_after_a_whole_page_is_published(embedded, etsy, bus):
    etsy.add(100, step=1)
    etsy.add(50, at=etsy.clock + 500)
    bus.fail_after = 120
    with pytest.raises(ConnectionError):
        poll(etsy, bus)
    assert OrderState(SHOP, get_redis()).cursor() == etsy.clock + 99  # end of page 1, not beyond


def test_receipt_changed_while_paging_is_not_skipped(embedded, etsy, bus):
    ids = etsy.add(250, step=1)
    etsy.clock += 300

    def edit_first(call_no):
        if call_no == 2:  # between page 1 and page 2, an already-read receipt changes
            etsy.change(ids[3], message_from_buyer="changed", at=etsy.clock + 5)

    etsy.before_call = edit_first
    poll(etsy, bus)
    downloaded = {e.data["order"]["receipt_id"] for e in bus.of("OrderDownloaded")}
    assert downloaded == set(ids)
    [update] = bus.of("OrderUpdated")
    assert update.data["changes"] == ["messages_changed"]


def test_changes_are_published_as_order_updated(embedded, etsy, bus):
    [a, b, c, d] = etsy.add(4)
    poll(etsy, bus)
    etsy.clock += 600
    etsy.change(a, is_shipped=True, status="completed", shipments=[SHIPMENT])
    etsy.change(b, status="canceled")
    etsy.change(c, first_line="New street 5")
    etsy.change(d, updated_timestamp=etsy.clock)  # a bump with nothing upstream sees
    poll(etsy, bus)
    updates = {e.data["order"]["receipt_id"]: e.data["changes"] for e in bus.of("OrderUpdated")}
    assert updates == {a: ["shipped", "tracking_added"], b: ["canceled"], c: ["address_changed"]}


def test_reconcile_catches_refunds_and_hidden_cancellations(embedded, etsy, bus):
    [a, b, c] = etsy.add(3, at=etsy.clock - 3600)  # older than the overlap window
    etsy.add(1)  # a recent order moves the cursor on
    poll(etsy, bus)
    etsy.change(a, bump=False, status="partially refunded", refunds=[REFUND])  # Etsy does not bump (etsy/open-api#513)
    etsy.change(b, bump=False, status="canceled")  # a cancellation that did not bump either
    etsy.hide_canceled = True  # and leaves it out of the unfiltered list (etsy/open-api#153)
    bus.events.clear()
    assert poll(etsy, bus).updated == 0  # the incremental poll cannot see either
    result = poll(etsy, bus, "reconcile")
    assert result.calls == 2  # the window, then its canceled receipts
    updates = {e.data["order"]["receipt_id"]: e.data["changes"] for e in bus.of("OrderUpdated")}
    assert updates == {a: ["refunded"], b: ["canceled"]}
    assert poll(etsy, bus, "reconcile").updated == 0  # and only once


def test_a_cancellation_left_out_of_the_list_arrives_with_the_next_incremental_poll(embedded, etsy, bus):
    """Etsy leaves canceled receipts out of getShopReceipts unless was_canceled is asked (#153, #629):
    the incremental poll asks for them, so the cancellation does not wait for the hourly reconcile."""
    [a, b] = etsy.add(2)
    poll(etsy, bus)
    etsy.clock += 60
    etsy.change(b, status="canceled", at=etsy.clock)
    etsy.hide_canceled = True
    bus.events.clear()
    result = poll(etsy, bus)
    assert result.calls == 2 and result.updated == 1
    [update] = bus.of("OrderUpdated")
    assert update.data["order"]["receipt_id"] == b and update.data["changes"] == ["canceled"]
    assert poll(etsy, bus).updated == 0  # once


def test_first_poll_looks_back_the_configured_days(embedded, etsy, bus):
    etsy.add(1, at=etsy.clock - 40 * 86400)
    [recent] = etsy.add(1, at=etsy.clock - 10 * 86400)
    poll(etsy, bus, initial_lookback_days=30)
    assert [e.data["order"]["receipt_id"] for e in bus.events] == [recent]


def test_an_unreadable_receipt_is_skipped_not_fatal(embedded, etsy, bus):
    [good, bad] = etsy.add(2)
    etsy.receipts[bad]["grandtotal"] = {"amount": "lots", "divisor": 100}
    result = poll(etsy, bus)
    assert result.skipped == 1 and [e.data["order"]["receipt_id"] for e in bus.events] == [good]


def test_many_pages_stop_at_the_tick_limit_and_the_next_tick_goes_on(embedded, etsy, bus):
    etsy.add(300, step=10)
    etsy.clock += 4000
    first = poll(etsy, bus, max_pages_per_tick=2)
    assert first.more and first.downloaded == 200
    second = poll(etsy, bus, max_pages_per_tick=2)  # re-reads the overlap silently, then the rest
    assert second.downloaded == 100 and not second.more
    assert len({e.data["order"]["receipt_id"] for e in bus.events}) == len(bus.events) == 300
