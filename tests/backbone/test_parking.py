"""A shop whose tokens are revoked: one ShopAuthFailed, work parked, replayed on reconnection."""

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
