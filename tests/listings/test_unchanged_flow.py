"""A product sent again unchanged is answered from its sync record: no Etsy call, no sync;
anything written since (a stock change) makes the next one sync again (catalogue/unchanged.py)."""

from __future__ import annotations

import pytest

from etsyflow.catalogue import unchanged
from etsyflow.state import get_redis

from .helpers import offerings_by_sku, product, published, stock, synced_template

pytestmark = pytest.mark.integration


def test_a_product_sent_again_unchanged_costs_no_etsy_call_at_all(catalogue):
    cat = catalogue
    synced_template(cat)
    data = product(cat, images=2)
    first = published(cat, data)
    mark = cat.mark()
    again = published(cat, data)
    assert again["listing_id"] == first["listing_id"] and again["changed"] == [] and again["created"] is False
    assert cat.calls(mark) == []  # not even a read


def test_a_stock_change_in_between_makes_the_next_republish_sync_again(catalogue):
    cat = catalogue
    synced_template(cat)
    data = product(cat, images=1)  # quantity 5 on SKU P-100-SKU
    first = published(cat, data)
    assert stock(cat, "P-100-SKU", 9)["type"] == "StockUpdated"
    mark = cat.mark()
    again = published(cat, data)  # the product's own quantity again: the full sync puts it back
    assert "inventory" in again["changed"]
    assert cat.writes(mark)
    assert offerings_by_sku(cat.listing(first["listing_id"]))["P-100-SKU"][1] == 5


def test_a_sync_begun_later_wins_the_record(catalogue):
    """Two syncs of one product: only the one begun last may record its data as done."""
    cat = catalogue
    synced_template(cat)
    data = product(cat, images=1)
    published(cat, data)
    redis = get_redis()
    older = unchanged.begin(redis, data)
    changed = dict(data, title="Another title")
    unchanged.begin(redis, changed)  # a later sync of other data began meanwhile
    assert unchanged.done(redis, data, older) is False
    assert unchanged.check(redis, data) is None  # so the older data is synced again, not skipped
