"""A shop whose tokens are revoked: one ShopAuthFailed, work parked, replayed on reconnection."""

import time

from etsyflow.messages import CloudEvent, publish
from etsyflow.shops.oauth import import_tokens
from etsyflow.workers import parked_count
from tests.waiting import wait_for


def test_revoked_shop_parks_work_and_replays_it_after_reconnect(embedded_shop, sandbox, tail, runtime):
    shop_id = embedded_shop
    sandbox.admin.revoke_tokens(shop_id)  # the seller changed their password
    sandbox.admin.expire_tokens(shop_id=shop_id)

    first = publish(CloudEvent.new("StockChanged", {"shop_id": shop_id, "sku": "A-1", "quantity": 1}, source="pim"))
    second = publish(CloudEvent.new("StockChanged", {"shop_id": shop_id, "sku": "B-2", "quantity": 2}, source="pim"))
    [failed] = tail.wait_for("ShopAuthFailed", timeout=15)
    assert failed["data"]["shop_id"] == shop_id

    def both_parked():
        return parked_count(shop_id) == 2

    _wait(both_parked, 15)
    assert len(tail.of_type("ShopAuthFailed")) == 1, "one ShopAuthFailed, not one per message"
    assert not tail.of_type("StockRejected"), "nothing was answered while the shop was disconnected"

    fresh = sandbox.admin.issue_tokens(shop_id)
    import_tokens(shop_id, fresh["access_token"], fresh["refresh_token"])  # runs the reconnect hooks

    answers = tail.wait_for("StockRejected", count=2, timeout=20)
    assert {a["causationid"] for a in answers} == {first.id, second.id}
    assert parked_count(shop_id) == 0


def _wait(condition, timeout):
    wait_for(condition, timeout)


def test_parking_is_bounded_in_count_and_age(embedded, configure, sandbox, tail):
    """Beyond PARKED_MAX_PER_SHOP an event is answered with its rejection at once; one parked
    longer than PARKED_MAX_AGE_SECONDS is answered with its rejection instead of waiting on."""
    from etsyflow.ops.status import gather, render
    from etsyflow.runtime import Runtime
    from tests.conftest import connect_shop

    configure(PARKED_MAX_PER_SHOP=2, PARKED_MAX_AGE_SECONDS=3, **sandbox.env())
    shop_id = connect_shop(sandbox)
    sandbox.admin.revoke_tokens(shop_id)
    sandbox.admin.expire_tokens(shop_id=shop_id)
    with Runtime(worker_threads=1):
        events = [publish(CloudEvent.new("StockChanged", {"shop_id": shop_id, "sku": f"S-{n}", "quantity": n},
                                         source="pim")) for n in range(3)]
        [over] = tail.wait_for("StockRejected", lambda e: e["causationid"] == events[2].id, timeout=20)
        assert "already has 2 events waiting" in over["data"]["reason"]
        assert parked_count(shop_id) == 2
        text = render(gather())
        assert "2 message(s) wait for it, the oldest parked" in text and "kept at most 2 per shop" in text
        time.sleep(3.5)  # the age bound passes for the two parked events (a fixed age, not a wait for work)
        late = publish(CloudEvent.new("StockChanged", {"shop_id": shop_id, "sku": "S-9", "quantity": 9},
                                      source="pim"))
        expired = tail.wait_for("StockRejected", lambda e: e["causationid"] in {events[0].id, events[1].id},
                                count=2, timeout=20)
    assert all("was not reconnected within" in e["data"]["reason"] for e in expired)
    assert parked_count(shop_id) == 1  # the late one waits
    assert late.id not in {e["causationid"] for e in tail.of_type("StockRejected")}
