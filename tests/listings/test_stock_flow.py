"""StockChanged end to end: one SKU's quantity, the rest of the matrix kept."""

from __future__ import annotations

import time

import pytest

from .helpers import offerings_by_sku, product, published, stock, synced_template, variations

pytestmark = pytest.mark.integration


# -- stock ------------------------------------------------------------------------------------




def test_stock_change_on_one_variation_keeps_the_others(catalogue):
    cat = catalogue
    synced_template(cat)
    listing_id = published(cat, product(cat, variations=variations()))["listing_id"]
    before = offerings_by_sku(cat.listing(listing_id))
    mark = cat.mark()
    answer = stock(cat, "DR-RE-S", 11)
    assert answer["type"] == "StockUpdated" and answer["data"]["listing_id"] == listing_id
    assert answer["data"]["product_id"] == "P-100"
    after = offerings_by_sku(cat.listing(listing_id))
    assert after["DR-RE-S"] == (2500, 11, True)
    assert {k: v for k, v in after.items() if k != "DR-RE-S"} == {k: v for k, v in before.items() if k != "DR-RE-S"}
    ops = [c["operation_id"] for c in cat.calls(mark)]
    assert ops == ["getListingInventory", "updateListingInventory"]
    # A variation sold out: disabled, the others still for sale.
    stock(cat, "DR-RE-S", 0)
    listing = cat.listing(listing_id)
    assert offerings_by_sku(listing)["DR-RE-S"] == (2500, 0, False) and listing["state"] == "active"


def test_stock_zero_on_a_simple_listing_deactivates_and_stock_back_reactivates(catalogue):
    cat = catalogue
    synced_template(cat)
    listing_id = published(cat, product(cat))["listing_id"]
    answer = stock(cat, "P-100-SKU", 0)
    assert answer["type"] == "StockUpdated" and answer["data"]["state"] == "inactive"
    listing = cat.listing(listing_id)
    assert listing["state"] == "inactive"
    answer = stock(cat, "P-100-SKU", 4)
    assert answer["data"]["state"] == "active"
    listing = cat.listing(listing_id)
    assert listing["state"] == "active" and offerings_by_sku(listing) == {"P-100-SKU": (4900, 4, True)}


def test_stock_for_a_sku_etsyflow_did_not_list_is_found_on_etsy(catalogue):
    cat = catalogue
    synced_template(cat)
    listing_id = published(cat, product(cat))["listing_id"]
    from etsyflow.state import get_redis

    get_redis().delete(f"etsyflow:sku:{cat.shop_id}")  # the index lost: Etsy is asked
    answer = stock(cat, "P-100-SKU", 6)
    assert answer["type"] == "StockUpdated" and answer["data"]["listing_id"] == listing_id
    assert offerings_by_sku(cat.listing(listing_id))["P-100-SKU"][1] == 6


def test_unknown_sku_is_rejected(catalogue):
    answer = stock(catalogue, "NOPE-1", 3)
    assert answer["type"] == "StockRejected" and "NOPE-1" in answer["data"]["reason"]


def test_a_parked_older_stock_change_replayed_after_a_newer_one_keeps_the_newer_quantity(catalogue):
    """The shop loses its tokens: StockChanged 12 is parked. Tokens are stored again and the
    newer StockChanged 13 is applied; then the parked 12 replays — and is refused as
    superseded: Etsy keeps 13 (an older state never overwrites a newer one)."""
    from etsyflow.shops.store import ShopStore
    from etsyflow.state import get_redis
    from etsyflow.workers import parked_count, replay_parked

    cat = catalogue
    synced_template(cat)
    listing_id = published(cat, product(cat))["listing_id"]
    cat.admin.revoke_tokens(cat.shop_id)
    cat.admin.expire_tokens(shop_id=cat.shop_id)
    older = cat.publish("StockChanged", {"shop_id": cat.shop_id, "sku": "P-100-SKU", "quantity": 12})
    cat.tail.wait_for("ShopAuthFailed", timeout=20)
    deadline = time.monotonic() + 20
    while parked_count(cat.shop_id) < 1:
        assert time.monotonic() < deadline, "the StockChanged was never parked"
        time.sleep(0.05)
    # the seller reconnects; the parked message has not been replayed yet when a newer change arrives
    fresh = cat.admin.issue_tokens(cat.shop_id)
    ShopStore(get_redis()).save_tokens(cat.shop_id, fresh["access_token"], fresh["refresh_token"],
                                       fresh["expires_in"], connected=True)
    answer = stock(cat, "P-100-SKU", 13)
    assert answer["type"] == "StockUpdated", answer
    assert offerings_by_sku(cat.listing(listing_id))["P-100-SKU"][1] == 13
    assert replay_parked(cat.shop_id) == 1
    late = cat.outcome(older, ("StockUpdated", "StockRejected", "EventRejected"))
    assert late["type"] == "StockRejected" and late["data"]["reason"].startswith("superseded"), late
    assert offerings_by_sku(cat.listing(listing_id))["P-100-SKU"][1] == 13
