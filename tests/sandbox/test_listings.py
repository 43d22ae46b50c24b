"""Draft listings, activation, images, inventory and item specifics, with Etsy's limits."""

from __future__ import annotations

import pytest

from etsy_sandbox.images import tiny_png

from .conftest import setup_listing


def test_draft_listing_needs_etsys_required_fields(sandbox, shop, etsy):
    made = setup_listing(etsy, shop, image=False)
    base = {"quantity": 1, "title": "Mug", "description": "A mug", "price": "10", "who_made": "i_did",
            "when_made": "made_to_order", "taxonomy_id": 891, "shipping_profile_id": made["shipping_profile_id"],
            "readiness_state_id": made["readiness_state_id"], "return_policy_id": shop["return_policy_id"]}
    url = f"/shops/{shop['shop_id']}/listings"
    assert etsy.post(url, data=base).status_code == 201
    for field in ("quantity", "title", "description", "price", "who_made", "when_made", "taxonomy_id"):
        reply = etsy.post(url, data={k: v for k, v in base.items() if k != field})
        assert reply.status_code == 400 and "error" in reply.json(), field
    cases = {
        "title": "x" * 141, "price": "0.10", "quantity": 0, "taxonomy_id": 424242,
        "tags": [f"tag{i}" for i in range(14)], "who_made": "robot",
    }
    sandbox.admin.config(strict=False)  # let the sandbox's own rules answer, not the OpenAPI check
    for field, value in cases.items():
        reply = etsy.post(url, data={**base, field: value})
        assert reply.status_code == 400, (field, reply.text)
    for missing in ("shipping_profile_id", "readiness_state_id", "return_policy_id"):
        reply = etsy.post(url, data={k: v for k, v in base.items() if k != missing})
        assert reply.status_code == 400 and missing in reply.json()["error"]
    assert etsy.post(url, data={**base, "title": "50% off: cats & dogs"}).status_code == 201
    assert etsy.post(url, data={**base, "title": "50% & 60% off"}).status_code == 400


def test_activation_needs_an_image_and_a_valid_profile(sandbox, shop, etsy):
    made = setup_listing(etsy, shop, image=False)
    url = f"/shops/{shop['shop_id']}/listings/{made['listing_id']}"
    reply = etsy.patch(url, data={"state": "active"})
    assert reply.status_code == 400 and "image" in reply.json()["error"]
    etsy.post(url + "/images", files={"image": ("a.png", tiny_png(), "image/png")})
    active = etsy.patch(url, data={"state": "active"})
    assert active.status_code == 200 and active.json()["state"] == "active"
    assert etsy.get(f"/shops/{shop['shop_id']}/listings").json()["count"] == 1
    assert etsy.patch(url, data={"image_ids": ""}).status_code == 400  # an empty image_ids is rejected
    sandbox.admin.freeze_listing(made["listing_id"])
    etsy.patch(url, data={"state": "inactive"})
    assert etsy.patch(url, data={"state": "active"}).status_code == 409


def test_update_listing_fields(sandbox, shop, etsy):
    made = setup_listing(etsy, shop)
    url = f"/shops/{shop['shop_id']}/listings/{made['listing_id']}"
    reply = etsy.patch(url, data={"title": "Blue dress", "tags": ["blue", "summer"], "materials": ["linen"]})
    assert reply.status_code == 200
    listing = reply.json()
    assert (listing["title"], listing["tags"], listing["materials"]) == ("Blue dress", ["blue", "summer"], ["linen"])
    got = etsy.get(f"/listings/{made['listing_id']}", params={"includes": ["Images", "Shop"]}).json()
    assert len(got["images"]) == 1 and got["shop"]["shop_id"] == shop["shop_id"]
    assert etsy.patch(url, data={"shipping_profile_id": 999}).status_code == 400
    assert etsy.delete(f"/listings/{made['listing_id']}").status_code == 204
    assert etsy.get(f"/listings/{made['listing_id']}").status_code == 404


def test_images(sandbox, shop, etsy):
    made = setup_listing(etsy, shop, image=False)
    url = f"/shops/{shop['shop_id']}/listings/{made['listing_id']}/images"
    ids = []
    for rank in range(1, 11):
        reply = etsy.post(url, files={"image": ("i.png", tiny_png(rgb=(rank, 0, 0)), "image/png")},
                          data={"rank": rank, "alt_text": f"view {rank}"})
        assert reply.status_code == 201, reply.text
        ids.append(reply.json()["listing_image_id"])
    listed = etsy.get(f"/listings/{made['listing_id']}/images").json()
    assert [i["listing_image_id"] for i in listed["results"]] == ids
    assert [i["rank"] for i in listed["results"]] == list(range(1, 11))
    eleventh = etsy.post(url, files={"image": ("i.png", tiny_png(), "image/png")}, data={"rank": 11})
    assert eleventh.status_code == 400 and "10" in eleventh.json()["error"]
    assert etsy.delete(f"{url}/{ids[0]}").status_code == 204
    assert etsy.get(f"/listings/{made['listing_id']}/images/{ids[1]}").json()["rank"] == 1
    not_image = etsy.post(url, files={"image": ("i.png", b"GIF? no, text", "image/png")})
    assert not_image.status_code == 400
    long_alt = etsy.post(url, files={"image": ("i.png", tiny_png(), "image/png")}, data={"alt_text": "a" * 501})
    assert long_alt.status_code == 400
    image = etsy.get(f"/listings/{made['listing_id']}/images/{ids[1]}").json()
    served = sandbox.admin.session.get(image["url_fullxfull"], timeout=5)
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG")


def _product(sku, color_id, color, size_id, size, price, qty, rid):
    return {"sku": sku, "property_values": [
        {"property_id": 200, "value_ids": [color_id], "values": [color]},
        {"property_id": 100, "value_ids": [size_id], "values": [size]}],
        "offerings": [{"price": price, "quantity": qty, "is_enabled": True, "readiness_state_id": rid}]}


def test_inventory_replaces_the_whole_matrix(sandbox, shop, etsy):
    made = setup_listing(etsy, shop)
    rid = made["readiness_state_id"]
    url = f"/listings/{made['listing_id']}/inventory"
    body = {"products": [_product("D-RED-S", 9, "Red", 1797, "S", 24.99, 3, rid),
                         _product("D-RED-M", 9, "Red", 1798, "M", 26.99, 2, rid),
                         _product("D-BLK-S", 1, "Black", 1797, "S", 24.99, 0, rid)],
            "price_on_property": [100], "quantity_on_property": [200, 100], "sku_on_property": [200, 100]}
    reply = etsy.put(url, json=body)
    assert reply.status_code == 200, reply.text
    inventory = reply.json()
    assert [p["sku"] for p in inventory["products"]] == ["D-RED-S", "D-RED-M", "D-BLK-S"]
    assert inventory["products"][0]["offerings"][0]["price"] == {"amount": 2499, "divisor": 100,
                                                                   "currency_code": "USD"}
    assert inventory["products"][0]["property_values"][1]["scale_name"] == "Letter"
    listing = etsy.get(f"/listings/{made['listing_id']}").json()
    assert listing["quantity"] == 5 and listing["has_variations"] and listing["price"]["amount"] == 2499
    first_ids = {p["product_id"] for p in inventory["products"]}
    again = etsy.put(url, json={**body, "products": body["products"][:1]}).json()
    assert len(again["products"]) == 1 and again["products"][0]["product_id"] not in first_ids
    assert etsy.get(url).json()["products"] == again["products"]


@pytest.mark.parametrize("mutate, words", [
    (lambda b: b["products"][0].update(product_id=1), "product_id"),
    (lambda b: b["products"][0]["offerings"][0].update(offering_id=1), "offering_id"),
    (lambda b: b["products"][0]["property_values"][0].update(scale_name="x"), "scale_name"),
    (lambda b: b["products"][0]["property_values"][0].update(property_id=777), "777"),
    (lambda b: b["products"][0]["property_values"][0].update(value_ids=[4242], values=["Teal"]), "4242"),
    (lambda b: b.update(price_on_property=[]), "price_on_property"),
    (lambda b: b["products"][0]["offerings"][0].update(readiness_state_id=12345), "readiness_state_id"),
])
def test_inventory_rejects_what_etsy_rejects(sandbox, shop, etsy, mutate, words):
    sandbox.admin.config(strict=False)
    made = setup_listing(etsy, shop)
    rid = made["readiness_state_id"]
    body = {"products": [_product("A", 9, "Red", 1797, "S", 24.99, 3, rid),
                         _product("B", 9, "Red", 1798, "M", 26.99, 2, rid)],
            "price_on_property": [100], "quantity_on_property": [100], "sku_on_property": [100]}
    mutate(body)
    reply = etsy.put(f"/listings/{made['listing_id']}/inventory", json=body)
    assert reply.status_code == 400 and words in reply.json()["error"], reply.text


def test_custom_variation_properties(sandbox, shop, etsy):
    made = setup_listing(etsy, shop, taxonomy_id=1179)  # jewelry: no Color property
    rid = made["readiness_state_id"]
    products = [{"sku": f"N-{name}", "property_values": [
        {"property_id": 513, "property_name": "Finish", "value_ids": [], "values": [name]}],
        "offerings": [{"price": 30.0, "quantity": 1, "is_enabled": True, "readiness_state_id": rid}]}
        for name in ("Matte", "Polished")]
    reply = etsy.put(f"/listings/{made['listing_id']}/inventory", json={"products": products, "sku_on_property": [513]})
    assert reply.status_code == 200, reply.text
    values = reply.json()["products"][0]["property_values"][0]
    assert values["property_name"] == "Finish" and values["values"] == ["Matte"] and values["value_ids"]
    colour = [{**products[0], "property_values": [{"property_id": 200, "value_ids": [9], "values": ["Red"]}]}]
    assert etsy.put(f"/listings/{made['listing_id']}/inventory", json={"products": colour}).status_code == 400


def test_item_specifics(sandbox, shop, etsy):
    made = setup_listing(etsy, shop)
    base = f"/shops/{shop['shop_id']}/listings/{made['listing_id']}/properties"
    reply = etsy.put(f"{base}/505", data={"value_ids": [4001, 4002], "values": ["Cotton", "Linen"]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["values"] == ["Cotton", "Linen"]
    assert etsy.put(f"{base}/200", data={"value_ids": [9], "values": ["Red"]}).status_code == 200
    assert etsy.get(base).json()["count"] == 2
    wrong = etsy.put(f"{base}/200", data={"value_ids": [9], "values": ["Blue"]})
    assert wrong.status_code == 400
    unknown = etsy.put(f"{base}/200", data={"value_ids": [], "values": ["Teal"]})
    assert unknown.json() == {"error": "Missing required parameter: value_ids"}  # an empty form array is no array
    not_here = etsy.put(f"{base}/508", data={"value_ids": [], "values": ["Vanilla"]})
    assert not_here.status_code == 400  # Scent belongs to candles, not dresses
    assert etsy.delete(f"{base}/200").status_code == 204
    assert etsy.get(base).json()["count"] == 1
