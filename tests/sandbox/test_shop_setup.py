"""Shipping profiles and destinations, processing profiles, return policies, taxonomy."""

from __future__ import annotations

PROFILE = {"title": "Standard", "origin_country_iso": "US", "origin_postal_code": "10001", "primary_cost": "4.50",
           "secondary_cost": "1.00", "destination_country_iso": "US", "min_delivery_days": 2,
           "max_delivery_days": 5}


def test_shipping_profile_lifecycle(sandbox, shop, etsy):
    sid = shop["shop_id"]
    created = etsy.post(f"/shops/{sid}/shipping-profiles", data=PROFILE)
    assert created.status_code == 200, created.text
    profile = created.json()
    pid = profile["shipping_profile_id"]
    dest = profile["shipping_profile_destinations"][0]
    assert dest["primary_cost"] == {"amount": 450, "divisor": 100, "currency_code": "USD"}
    extra = etsy.post(f"/shops/{sid}/shipping-profiles/{pid}/destinations",
                      data={"primary_cost": "12", "secondary_cost": "3", "destination_region": "eu",
                            "min_delivery_days": 5, "max_delivery_days": 15})
    assert extra.status_code == 201, extra.text
    did = extra.json()["shipping_profile_destination_id"]
    listed = etsy.get(f"/shops/{sid}/shipping-profiles/{pid}/destinations").json()
    assert listed["count"] == 2
    updated = etsy.put(f"/shops/{sid}/shipping-profiles/{pid}/destinations/{did}", data={"primary_cost": "13.5"})
    assert updated.json()["primary_cost"]["amount"] == 1350
    assert etsy.put(f"/shops/{sid}/shipping-profiles/{pid}", data={"title": "Renamed"}).json()["title"] == "Renamed"
    assert etsy.delete(f"/shops/{sid}/shipping-profiles/{pid}/destinations/{did}").status_code == 204
    assert etsy.get(f"/shops/{sid}/shipping-profiles").json()["count"] == 1
    assert etsy.delete(f"/shops/{sid}/shipping-profiles/{pid}").status_code == 204
    assert etsy.get(f"/shops/{sid}/shipping-profiles/{pid}").status_code == 404


def test_shipping_profile_rules(sandbox, shop, etsy):
    sid = shop["shop_id"]
    both = {**PROFILE, "destination_region": "eu"}
    reply = etsy.post(f"/shops/{sid}/shipping-profiles", data=both)
    assert reply.status_code == 400 and "exactly one" in reply.json()["error"]
    neither = {k: v for k, v in PROFILE.items() if k != "destination_country_iso"}
    assert etsy.post(f"/shops/{sid}/shipping-profiles", data=neither).status_code == 400
    no_days = {k: v for k, v in PROFILE.items() if "delivery" not in k}
    reply = etsy.post(f"/shops/{sid}/shipping-profiles", data=no_days)
    assert reply.status_code == 400 and "mail_class" in reply.json()["error"]
    carrier = {**no_days, "shipping_carrier_id": 1, "mail_class": "priority"}
    assert etsy.post(f"/shops/{sid}/shipping-profiles", data=carrier).status_code == 200
    no_postcode = {k: v for k, v in PROFILE.items() if k != "origin_postal_code"}
    reply = etsy.post(f"/shops/{sid}/shipping-profiles", data=no_postcode)
    assert reply.status_code == 400 and "origin_postal_code" in reply.json()["error"]


def test_processing_profile_conflict_points_at_the_existing_one(sandbox, shop, etsy):
    sid = shop["shop_id"]
    body = {"readiness_state": "made_to_order", "min_processing_time": 1, "max_processing_time": 2,
            "processing_time_unit": "weeks"}
    first = etsy.post(f"/shops/{sid}/readiness-state-definitions", data=body)
    assert first.status_code == 201
    profile = first.json()
    assert (profile["min_processing_days"], profile["max_processing_days"]) == (7, 14)
    second = etsy.post(f"/shops/{sid}/readiness-state-definitions", data=body)
    assert second.status_code == 409 and "error" in second.json()
    location = second.headers["Content-Location"]
    assert location.endswith(f"/readiness-state-definitions/{profile['readiness_state_id']}")
    assert etsy.get(location.replace("/v3/application", "")).json() == profile
    listed = etsy.get(f"/shops/{sid}/readiness-state-definitions").json()
    assert listed["count"] == 1
    changed = etsy.put(f"/shops/{sid}/readiness-state-definitions/{profile['readiness_state_id']}",
                       data={"max_processing_time": 3})
    assert changed.status_code == 200 and changed.json()["max_processing_days"] == 21
    bad = etsy.post(f"/shops/{sid}/readiness-state-definitions",
                    data={"readiness_state": "ready_to_ship", "min_processing_time": 3, "max_processing_time": 1})
    assert bad.status_code == 400


def test_return_policies(sandbox, shop, etsy):
    sid = shop["shop_id"]
    listed = etsy.get(f"/shops/{sid}/policies/return").json()
    assert listed["count"] == 1  # a new sandbox shop has one, like an onboarded Etsy shop
    created = etsy.post(f"/shops/{sid}/policies/return",
                        data={"accepts_returns": "true", "accepts_exchanges": "false", "return_deadline": 14})
    assert created.status_code == 200 and created.json()["return_deadline"] == 14
    bad = etsy.post(f"/shops/{sid}/policies/return",
                    data={"accepts_returns": "true", "accepts_exchanges": "true", "return_deadline": 10})
    assert bad.status_code == 400
    one = etsy.get(f"/shops/{sid}/policies/return/{created.json()['return_policy_id']}")
    assert one.json() == created.json()


def test_taxonomy(sandbox, etsy):
    nodes = etsy.get("/seller-taxonomy/nodes").json()
    # Etsy's own ids and names: the 15 top-level categories, and children as in Etsy's document.
    assert nodes["count"] == len(nodes["results"]) == 15
    assert {(n["id"], n["name"]) for n in nodes["results"]} >= {(374, "Clothing"), (1179, "Jewelry"),
                                                                (891, "Home & Living"), (1429, "Shoes")}
    shoes = next(n for n in nodes["results"] if n["id"] == 1429)
    girls = shoes["children"][0]
    assert (girls["id"], girls["name"], girls["level"], girls["full_path_taxonomy_ids"]) == \
        (1440, "Girls' Shoes", 1, [1429, 1440])
    sizes = next(p for p in etsy.get("/seller-taxonomy/nodes/1440/properties").json()["results"]
                 if p["property_id"] == 100)
    eu = next(s for s in sizes["scales"] if s["display_name"] == "EU")
    assert {"value_id": 1394, "name": "38", "scale_id": eu["scale_id"], "equal_to": []} in sizes["possible_values"]
    props = etsy.get("/seller-taxonomy/nodes/374/properties").json()["results"]
    color = next(p for p in props if p["property_id"] == 200)
    assert color["supports_variations"] and {"value_id": 1, "name": "Black", "scale_id": None,
                                             "equal_to": []} in color["possible_values"]
    size = next(p for p in props if p["property_id"] == 100)
    assert [s["display_name"] for s in size["scales"]] == ["Letter", "US women's"]
    jewelry = etsy.get("/seller-taxonomy/nodes/1179/properties").json()["results"]
    assert 200 not in [p["property_id"] for p in jewelry]
    assert etsy.get("/seller-taxonomy/nodes/99999/properties").status_code == 404
