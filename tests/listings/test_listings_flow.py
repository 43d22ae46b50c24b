"""ListingReady end to end: bus -> actor -> sandbox over HTTP -> ListingPublished (real Redis, local image server)."""

from __future__ import annotations

import copy
import threading

import pytest

from .helpers import offerings_by_sku, product, published, synced_template, variations

pytestmark = pytest.mark.integration


# -- listings -------------------------------------------------------------------------------

def test_simple_listing_is_created_with_every_field_and_published(catalogue):
    cat = catalogue
    tpl = synced_template(cat)
    mark = cat.mark()
    data = published(cat, product(cat, images=2))
    assert data["state"] == "active" and data["created"] is True
    assert data["url"] == f"https://www.etsy.com/listing/{data['listing_id']}"
    assert data["rrp"] == "59.00" and data["price"] == "49.00" and data["product_id"] == "P-100"
    listing = cat.listing(data["listing_id"])
    assert listing["title"] == "Linen summer dress" and listing["description"] == "A light linen dress."
    assert listing["tags"] == ["linen", "summer dress"] and listing["materials"] == ["linen"]
    assert (listing["who_made"], listing["when_made"], listing["taxonomy_id"]) == ("i_did", "2020_2026", 374)
    assert listing["shipping_profile_id"] == tpl["shipping_profile_id"]
    assert listing["readiness_state_id"] == tpl["readiness_state_id"]
    assert listing["return_policy_id"] is not None  # a US shop: Etsy requires one
    assert listing["state"] == "active" and listing["quantity"] == 5 and listing["price"] == 4900
    assert offerings_by_sku(listing) == {"P-100-SKU": (4900, 5, True)}
    images = [cat.sandbox.app.state.images[i] for i in listing["image_ids"]]
    assert [i["alt_text"] for i in images] == ["view 1", "view 2"]
    writes = [c["operation_id"] for c in cat.writes(mark)]
    # The minimum: create, one upload per image, the inventory (for the SKU), activation.
    assert writes == ["createDraftListing", "uploadListingImage", "uploadListingImage", "updateListingInventory",
                      "updateListing"]


def test_identical_republish_makes_zero_write_calls(catalogue):
    cat = catalogue
    synced_template(cat)
    data = product(cat, images=3, variations=variations(),
                   specifics=[{"name": "Occasion", "value": "Wedding"}])
    first = published(cat, data)
    mark = cat.mark()
    again = published(cat, data)
    assert again["listing_id"] == first["listing_id"] and again["changed"] == [] and again["created"] is False
    assert cat.writes(mark) == []
    assert len(cat.listings()) == 1


def test_variations_two_options_four_skus_with_their_own_prices_and_quantities(catalogue):
    cat = catalogue
    synced_template(cat)
    data = published(cat, product(cat, variations=variations()))
    listing = cat.listing(data["listing_id"])
    assert offerings_by_sku(listing) == {"DR-BL-S": (2000, 3, True), "DR-BL-M": (2000, 0, False),
                                         "DR-RE-S": (2500, 7, True), "DR-RE-M": (2750, 2, True)}
    inventory = listing["inventory"]
    assert inventory["price_on_property"] == [200, 100]
    assert inventory["quantity_on_property"] == [200, 100]
    assert inventory["sku_on_property"] == [200, 100]
    product0 = inventory["products"][0]
    assert [(pv["property_id"], pv["value_ids"], pv["values"]) for pv in product0["property_values"]] == \
        [(200, [2], ["Blue"]), (100, [1797], ["S"])]
    assert listing["quantity"] == 12 and listing["state"] == "active"
    assert data["price"] == "20.00"  # the lowest offering price


def test_custom_variation_options_use_properties_513_and_514(catalogue):
    cat = catalogue
    synced_template(cat)
    custom = [{"sku": f"ENG-{i}", "options": {"Engraving": e, "Gift box": g}, "price": "30.00", "quantity": 2}
              for i, (e, g) in enumerate([("Yes", "Yes"), ("Yes", "No"), ("No", "Yes"), ("No", "No")])]
    data = published(cat, product(cat, variations=custom))
    products = cat.listing(data["listing_id"])["inventory"]["products"]
    assert {tuple(pv["property_id"] for pv in p["property_values"]) for p in products} == {(513, 514)}
    assert products[0]["property_values"][0]["property_name"] == "Engraving"


def test_item_specifics_are_set_by_name(catalogue):
    cat = catalogue
    synced_template(cat)
    data = published(cat, product(cat, specifics=[{"name": "Occasion", "value": "wedding"},
                                                  {"name": "Material", "value": "Linen"},
                                                  {"name": "Material", "value": "Cotton"}]))
    props = cat.listing(data["listing_id"])["properties"]
    assert props[506]["values"] == ["Wedding"] and props[506]["value_ids"] == [4101]
    assert props[505]["values"] == ["Linen", "Cotton"]


def test_ten_images_are_uploaded_in_order_with_their_alt_text(catalogue):
    cat = catalogue
    synced_template(cat)
    data = product(cat, images=0)
    data["images"] = [{"url": cat.images.image(i, "jpg" if i % 2 else "png"), "alt_text": f"photo {i}"}
                      for i in range(1, 11)]
    listing = cat.listing(published(cat, data)["listing_id"])
    state = cat.sandbox.app.state
    uploaded = [state.images[i] for i in listing["image_ids"]]
    assert [i["alt_text"] for i in uploaded] == [f"photo {i}" for i in range(1, 11)]
    assert [i["rank"] for i in uploaded] == list(range(1, 11))
    assert [i["ext"] for i in uploaded] == ["jpg" if i % 2 else "png" for i in range(1, 11)]


def test_every_field_update_writes_only_that_part(catalogue):
    cat = catalogue
    synced_template(cat)
    base = product(cat, images=3, variations=variations(), specifics=[{"name": "Occasion", "value": "Wedding"}])
    listing_id = published(cat, base)["listing_id"]
    state = cat.sandbox.app.state
    images_before = list(cat.listing(listing_id)["image_ids"])

    def change(**more):
        mark = cat.mark()
        data = {**copy.deepcopy(base), **more}
        answer = published(cat, data)
        assert answer["listing_id"] == listing_id
        return answer, [c["operation_id"] for c in cat.writes(mark)], data

    for name, value in [("title", "Linen dress, sea blue"), ("description", "Now longer."),
                        ("tags", ["linen", "beach"]), ("materials", ["linen", "cotton"]),
                        ("who_made", "collective"), ("when_made", "made_to_order"), ("taxonomy_id", 1440)]:
        answer, ops, base = change(**{name: value})
        assert ops == ["updateListing"], (name, ops)
        assert answer["changed"] == ["fields"]
        assert cat.listing(listing_id)[name] == value

    answer, ops, base = change(variations=variations(prices=("20.00", "21.00", "25.00", "27.50")))
    assert ops == ["updateListingInventory"] and answer["changed"] == ["inventory"]
    assert offerings_by_sku(cat.listing(listing_id))["DR-BL-M"][0] == 2100

    answer, ops, base = change(specifics=[{"name": "Occasion", "value": "Birthday"}])
    assert ops == ["updateListingProperty"]
    assert cat.listing(listing_id)["properties"][506]["values"] == ["Birthday"]

    # One image replaced (the second), one added: the others are not uploaded again.
    new_images = copy.deepcopy(base["images"])
    new_images[1] = {"url": cat.images.image(42), "alt_text": "new view"}
    new_images.append({"url": cat.images.image(43), "alt_text": "extra"})
    answer, ops, base = change(images=new_images)
    assert ops == ["uploadListingImage", "uploadListingImage"] and answer["changed"] == ["images"]
    now = cat.listing(listing_id)["image_ids"]
    assert now[0] == images_before[0] and now[2] == images_before[2]
    assert [state.images[i]["alt_text"] for i in now] == ["view 1", "new view", "view 3", "extra"]

    # Reordered: moved by id, nothing uploaded; a removed image is deleted.
    answer, ops, base = change(images=[base["images"][2], base["images"][0], base["images"][1]])
    assert "deleteListingImage" in ops and ops.count("uploadListingImage") <= 2
    assert [state.images[i]["alt_text"] for i in cat.listing(listing_id)["image_ids"]] == \
        ["view 3", "view 1", "new view"]
    uploads = [c for c in cat.calls() if c["operation_id"] == "uploadListingImage"]
    assert sum(1 for c in uploads if isinstance((c.get("body") or {}).get("image"), dict)) == 5  # 3 + 2 files

    answer, ops, base = change(state="draft")  # a live listing cannot go back to draft: inactive
    assert ops == ["updateListing"] and answer["state"] == "inactive"
    answer, ops, base = change(state="active")
    assert ops == ["updateListing"] and answer["state"] == "active"
    assert len(cat.listings()) == 1


def test_simple_listing_price_and_quantity_change_through_the_inventory(catalogue):
    cat = catalogue
    synced_template(cat)
    base = product(cat)
    listing_id = published(cat, base)["listing_id"]
    mark = cat.mark()
    answer = published(cat, {**base, "price": "45.00", "quantity": 9})
    assert [c["operation_id"] for c in cat.writes(mark)] == ["updateListingInventory"]
    listing = cat.listing(listing_id)
    assert (listing["price"], listing["quantity"]) == (4500, 9) and answer["price"] == "45.00"


def test_concurrent_duplicate_deliveries_make_one_listing(catalogue):
    from etsyflow.messages import CloudEvent, publish

    cat = catalogue
    synced_template(cat)
    data = product(cat, images=3, variations=variations())
    event = CloudEvent.new("ListingReady", data, source="pim")
    other = CloudEvent.new("ListingReady", data, source="pim")  # a second event for the same product
    threads = [threading.Thread(target=publish, args=(e,)) for e in (event, event, other, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    first = cat.outcome(event, ("ListingPublished",), timeout=60)
    second = cat.outcome(other, ("ListingPublished",), timeout=60)
    assert first["data"]["listing_id"] == second["data"]["listing_id"]
    assert cat.runtime.join(30)
    assert len(cat.listings()) == 1
    creates = [c for c in cat.calls() if c["operation_id"] == "createDraftListing"]
    assert len(creates) == 1
    assert len(cat.listing(first["data"]["listing_id"])["image_ids"]) == 3


def test_worker_dying_after_etsys_create_answer_still_makes_one_listing(catalogue):
    cat = catalogue
    synced_template(cat)
    # Etsy creates the draft, then the connection drops: the worker never learns the listing id.
    cat.admin.add_fault(operation="createDraftListing", kind="drop", when="after", times=1)
    data = published(cat, product(cat, images=2, variations=variations()), timeout=90)
    assert len(cat.listings()) == 1
    creates = [c for c in cat.calls() if c["operation_id"] == "createDraftListing"]
    assert len(creates) == 1 and creates[0]["fault"]  # the answer was lost ...
    # (the reads before the create are the shop's first listings sync: every state, with inventories)
    recovery = [c for c in cat.calls(creates[0]["seq"]) if c["operation_id"] == "getListingsByShop"]
    assert recovery and recovery[0]["query"]["state"] == "draft"  # ... and the retry found the draft
    listing = cat.listing(data["listing_id"])
    assert listing["state"] == "active" and len(listing["image_ids"]) == 2
    assert len(offerings_by_sku(listing)) == 4


def test_lost_image_upload_answer_does_not_duplicate_the_image(catalogue):
    cat = catalogue
    synced_template(cat)
    cat.admin.add_fault(operation="uploadListingImage", kind="drop", when="after", times=1)
    data = published(cat, product(cat, images=3), timeout=90)
    state = cat.sandbox.app.state
    listing = cat.listing(data["listing_id"])
    assert [state.images[i]["alt_text"] for i in listing["image_ids"]] == ["view 1", "view 2", "view 3"]
    assert any(c["operation_id"] == "getListingImages" for c in cat.calls())  # the retry looked first


def test_draft_is_left_as_a_draft(catalogue):
    cat = catalogue
    synced_template(cat)
    mark = cat.mark()
    data = published(cat, product(cat, state="draft"))
    assert data["state"] == "draft" and cat.listing(data["listing_id"])["state"] == "draft"
    assert "updateListing" not in [c["operation_id"] for c in cat.writes(mark)]
