"""Events for a shop that was never connected get their type's rejection, not parking."""

from __future__ import annotations

import pytest

from etsyflow.messages import CloudEvent, publish
from etsyflow.workers import parked_count

UNKNOWN = 99999999
REASON = f"shop {UNKNOWN} is not connected"

LISTING = {
    "shop_id": UNKNOWN, "product_id": "P-1", "sku": "P-1-SKU", "title": "Linen summer dress",
    "description": "A light linen dress.", "price": "49.00", "currency": "USD", "quantity": 5,
    "taxonomy_id": 374, "who_made": "i_did", "when_made": "2020_2026", "delivery_template_id": "std-us",
    "tags": ["linen"], "materials": ["linen"], "state": "draft",
}


@pytest.mark.parametrize("event_type, data, answer", [
    ("StockChanged", {"shop_id": UNKNOWN, "sku": "MUG-1", "quantity": 3}, "StockRejected"),
    ("ListingReady", LISTING, "ListingRejected"),
    ("OrderShipped", {"shop_id": UNKNOWN, "receipt_id": 1234, "carrier": "Royal Mail",
                      "tracking_number": "JC123456789GB", "shipped_at": "2026-11-29T16:05:00Z"}, "ShipmentRejected"),
])
def test_an_event_for_a_shop_never_connected_is_rejected_with_the_reason(embedded_shop, tail, runtime, event_type,
                                                                          data, answer):
    event = publish(CloudEvent.new(event_type, data, source="upstream"))
    [rejection] = tail.wait_for(answer, lambda e: e.get("causationid") == event.id, timeout=20)
    assert REASON in rejection["data"]["reason"]
    assert parked_count(UNKNOWN) == 0
    assert not tail.of_type("ShopAuthFailed")
