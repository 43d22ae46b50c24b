"""What one OrdersPollTick does: stale and concurrent ticks are dropped, notes left meanwhile get one more pass."""

from datetime import datetime, timedelta, timezone

import pytest

from etsyflow.messages import CloudEvent
from etsyflow.orders.config import OrdersConfig
from etsyflow.orders.store import OrderState
from etsyflow.orders.tick import poll_shop
from etsyflow.shops.store import ShopStore
from etsyflow.messages import Refused

from .fake_etsy import FakeReceipts

SHOP = 31000001


@pytest.fixture
def etsy(embedded):
    ShopStore().save_tokens(SHOP, "51000001.a", "51000001.r", 3600, connected=True)
    fake = FakeReceipts()
    fake.add(3)
    return fake


def tick(**kw):
    return CloudEvent.new("OrdersPollTick", {"shop_id": SHOP}, source="test", **kw)


def run(event, etsy, mode="incremental"):
    return poll_shop(event, SHOP, mode, client=etsy, config=OrdersConfig(initial_lookback_days=3650))


def test_a_tick_polls_and_records(etsy):
    [result] = run(tick(), etsy)
    assert result.downloaded == 3 and result.calls == 2
    assert OrderState(SHOP).status()["incremental_polls"] == 1
    assert ShopStore().get(SHOP).last_poll_at is not None


def test_stale_tick_is_dropped(etsy):
    old = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    event = tick()
    stale = CloudEvent(type=event.type, data=event.data, id=event.id, source="test", time=old)
    assert run(stale, etsy) == [] and etsy.calls == []


def test_tick_for_a_shop_being_polled_is_dropped_and_leaves_a_note(etsy):
    holder = OrderState(SHOP)
    assert holder.acquire(30)
    assert run(tick(), etsy, "reconcile") == [] and etsy.calls == []
    assert holder.take_again() == ["reconcile"]


def test_the_holder_polls_once_more_for_notes_left_meanwhile(etsy):
    def someone_ticks(call_no):
        if call_no == 1:  # while the first pass runs, a webhook tick arrives and is dropped
            assert run(tick(), etsy) == []

    etsy.before_call = someone_ticks
    results = run(tick(), etsy)
    assert [r.mode for r in results] == ["incremental", "incremental"]
    assert not OrderState(SHOP).is_locked()


def test_unknown_shop_is_rejected_and_reconnect_pending_shop_skipped(etsy):
    with pytest.raises(Refused, match="not connected"):
        poll_shop(tick(), 999, client=etsy)
    ShopStore().mark_auth_failed(SHOP, "revoked")
    assert run(tick(), etsy) == [] and etsy.calls == []


def test_lock_is_released_when_etsy_fails(etsy):
    etsy.fail_on_call = 1
    with pytest.raises(ConnectionError):
        run(tick(), etsy)
    assert not OrderState(SHOP).is_locked()
