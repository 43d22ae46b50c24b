"""Orders end to end: sandbox over HTTP, real Redis, bridge + workers in this process, events on the bus."""

import pytest

from etsyflow.orders.store import OrderState
from etsyflow.schemas.orders import OrderSchema

from .conftest import drain, orders, poll_now, tick

pytestmark = pytest.mark.integration


def test_250_new_receipts_arrive_as_250_orders_in_3_calls(shop, tail, runtime):
    ids = shop.bulk(250, step_seconds=0, gift_message="Happy birthday",
                    items=[{"title": "Mug", "price": "12.50", "quantity": 2, "sku": "MUG-1", "free": True,
                            "personalization": "For Anna"}], buyer_email=None)
    shop.admin.clear_calls()
    tick(shop.shop_id)
    events = tail.wait_for("OrderDownloaded", count=250, timeout=60)
    assert sorted(e["data"]["order"]["receipt_id"] for e in events) == sorted(ids)
    assert len(shop.list_calls()) <= 3
    order = events[0]["data"]["order"]
    assert OrderSchema().validate(order) == {}
    assert order["buyer"]["email"] is None
    assert order["billing_address"]["source"] == "shipping"
    assert {k: v for k, v in order["billing_address"].items() if k != "source"} == order["shipping_address"]
    assert order["items"][0]["personalization"] == "For Anna" and order["items"][0]["unit_price"] == "12.50"
    assert order["totals"]["grand_total"] == "25.00" and order["totals"]["currency"] == "EUR"
    assert order["gift_message"] == "Happy birthday"
    assert events[0]["source"] == "etsyflow"
    drain(tail)
    assert len(orders(tail)) == 250  # and not one more


def test_idle_tick_is_two_calls_and_no_event(shop, tail, runtime):
    shop.bulk(5)
    poll_now(shop.shop_id)
    shop.admin.clear_calls()
    poll_now(shop.shop_id)
    drain(tail)
    assert len(shop.list_calls()) == 2  # modified receipts, then canceled ones
    assert len(orders(tail)) == 5 and orders(tail, "OrderUpdated") == []


def test_tick_without_shop_polls_every_connected_shop(shop, sandbox, tail, runtime):
    from .conftest import Shop

    from etsyflow.shops.oauth import import_tokens

    made = sandbox.admin.create_shop()
    import_tokens(made["shop_id"], made["access_token"], made["refresh_token"])
    other = Shop(int(made["shop_id"]), sandbox)
    shop.bulk(3)
    other.bulk(2)
    tick()
    events = tail.wait_for("OrderDownloaded", count=5, timeout=20)
    assert sorted(e["data"]["shop_id"] for e in events) == sorted([shop.shop_id] * 3 + [other.shop_id] * 2)


def test_receipt_on_the_cursor_boundary_is_neither_lost_nor_doubled(shop, tail, runtime):
    import time

    second = int(time.time()) - 30
    [first] = shop.bulk(1, created_start=second)
    poll_now(shop.shop_id)
    assert OrderState(shop.shop_id).cursor() == second
    [late] = shop.bulk(1, created_start=second)  # modified in the cursor's very second, seen only now
    poll_now(shop.shop_id)
    drain(tail)
    assert [e["data"]["order"]["receipt_id"] for e in orders(tail)] == [first, late]


def test_changes_become_order_updated(shop, tail, runtime):
    import time

    # Orders from an hour ago (outside the 120 s overlap), and a recent one that moves the cursor on.
    older = shop.bulk(4, created_start=int(time.time()) - 3600, step_seconds=1)
    [shipped, canceled, refunded, rescheduled, paid_later] = older + [shop.order(was_paid=False)]
    poll_now(shop.shop_id)
    shop.act(shipped, "ship", carrier_name="dhl", tracking_code="JJD0001")
    shop.act(paid_later, "pay")
    poll_now(shop.shop_id)
    drain(tail)
    assert len(orders(tail, "OrderUpdated")) == 2
    # Etsy: refunds and ship-date edits keep updated_timestamp; canceled receipts leave the list
    # (the incremental poll asks for them separately).
    shop.act(canceled, "cancel")
    shop.act(refunded, "refund", amount="3.00", reason="scratched")
    shop.act(rescheduled, "ship-date", ship_date="2030-01-15")
    poll_now(shop.shop_id)
    drain(tail)
    assert len(orders(tail, "OrderUpdated")) == 3  # the cancellation; not the refund or ship date
    poll_now(shop.shop_id, mode="reconcile")
    drain(tail)
    updates = {e["data"]["order"]["receipt_id"]: e["data"] for e in orders(tail, "OrderUpdated")}
    assert updates[shipped]["changes"] == ["shipped", "tracking_added"]
    assert updates[shipped]["order"]["shipments"][0]["tracking_number"] == "JJD0001"
    assert updates[paid_later]["changes"] == ["paid"]
    assert updates[canceled]["changes"] == ["canceled"] and updates[canceled]["order"]["status"] == "canceled"
    assert updates[refunded]["changes"] == ["refunded"]
    assert updates[refunded]["order"]["status"] == "partially_refunded"
    assert updates[refunded]["order"]["refunded_total"] == "3.00"
    assert updates[rescheduled]["changes"] == ["ship_date_changed"]
    assert len(orders(tail, "OrderUpdated")) == 5
