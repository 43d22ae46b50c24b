"""Everything that cannot be sent, and everything Etsy refuses, ends in a rejection with a reason."""

from __future__ import annotations

import copy

import pytest

from .helpers import product, publish_listing, rejected, synced_template

pytestmark = pytest.mark.integration


# -- rejections -------------------------------------------------------------------------------

def test_unknown_delivery_template_is_rejected(catalogue):
    cat = catalogue
    reason = rejected(cat, product(cat, delivery_template_id="express"))
    assert reason == ("delivery template express has not been synced to Etsy yet; "
                      "publish DeliveryTemplateReady first")
    assert cat.listings() == []


@pytest.mark.parametrize("change, words", [
    ({"specifics": [{"name": "Occasion", "value": "Funeral"}]}, ["'Funeral' is not a value", "Wedding"]),
    ({"specifics": [{"name": "Sleeve", "value": "Long"}]}, ["no item specific named 'Sleeve'"]),
    ({"variations": [{"sku": "A", "options": {"Color": "Navy"}, "price": "5.00", "quantity": 1}]},
     ["'Navy'", "no such value"]),
    ({"images": [{"url": "{images}/page.html", "alt_text": "x"}]}, ["is not an image"]),
    ({"images": [{"url": "{images}/missing.png", "alt_text": "x"}]}, ["HTTP 404"]),
    ({"images": [{"url": "{images}/fake.png", "alt_text": "x"}]}, ["not a JPEG, PNG, GIF or WebP"]),
    ({"quantity": 0}, ["nothing is in stock"]),
    ({"title": "100% linen: 50% off: now"}, ["title may contain the character"]),  # Etsy's own refusal
    ({"price": "0.10"}, ["price must be between"]),  # Etsy's own refusal
    ({"currency": "EUR"}, ["prices are in EUR but the Etsy shop sells in USD"]),
])
def test_what_cannot_be_sent_or_etsy_refuses_is_rejected_with_a_reason(catalogue, change, words):
    cat = catalogue
    synced_template(cat)
    data = {**product(cat), **copy.deepcopy(change)}
    for image in data["images"]:
        image["url"] = image["url"].replace("{images}", cat.images.url)
    mark = cat.mark()
    reason = rejected(cat, data)
    for word in words:
        assert word in reason, reason
    if "price" not in change and "title" not in change:
        assert cat.writes(mark) == []  # refused before anything was made
    assert cat.runtime.join(30)
    assert not [c for c in cat.calls(mark) if c["operation_id"] == "createDraftListing" and c["status"] < 300]


def test_over_etsy_limits_is_rejected_before_any_call(catalogue):
    cat = catalogue
    data = product(cat, images=11, tags=[f"tag{i}" for i in range(14)])
    mark = cat.mark()
    event = cat.publish("ListingReady", data)
    answer = cat.outcome(event, ("EventRejected",))
    messages = " ".join(e["message"] for e in answer["data"]["errors"])
    assert "at most 10 images" in messages and "at most 13 tags" in messages
    # The product's owner, listening for ListingRejected, hears of it too.
    typed = cat.outcome(event, ("ListingRejected",))
    assert typed["data"]["product_id"] == data["product_id"] and "at most 10 images" in typed["data"]["reason"]
    assert cat.calls(mark) == []
