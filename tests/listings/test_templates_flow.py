"""DeliveryTemplateReady end to end: bus -> actor -> sandbox over HTTP -> DeliveryTemplateSynced."""

from __future__ import annotations

import pytest

from .helpers import synced_template, template

pytestmark = pytest.mark.integration


# -- delivery templates ---------------------------------------------------------------------

def test_template_becomes_one_shipping_profile_with_destinations_and_processing_profile(catalogue):
    cat = catalogue
    data = synced_template(cat)
    assert data["created"] is True and data["updated"] is False
    state = cat.sandbox.app.state
    profile = state.shipping_profiles[data["shipping_profile_id"]]
    dests = {(state.destinations[d]["destination_country_iso"] or state.destinations[d]["destination_region"])
             for d in profile["destination_ids"]}
    assert dests == {"US", "eu", "CA"}
    readiness = state.readiness[data["readiness_state_id"]]
    assert (readiness["min_processing_days"], readiness["max_processing_days"]) == (1, 3)

    mark = cat.mark()
    again = synced_template(cat)  # same content: nothing written
    assert again["shipping_profile_id"] == data["shipping_profile_id"] and again["updated"] is False
    assert cat.writes(mark) == []
    assert len([p for p in state.shipping_profiles.values() if p["shop_id"] == cat.shop_id]) == 1


def test_changed_template_is_kept_when_the_shop_option_is_off_and_updated_in_place_when_on(catalogue):
    from etsyflow.shops.store import ShopStore

    cat = catalogue
    first = synced_template(cat)
    changed = template(cat, title="Standard shipping 2")
    changed["destinations"][0]["primary_cost"] = "5.00"
    changed["destinations"].pop(2)  # CA no longer
    mark = cat.mark()
    kept = cat.send("DeliveryTemplateReady", changed, ("DeliveryTemplateSynced",))["data"]
    assert kept["updated"] is False and "update_shipping_templates" in kept["note"]
    assert cat.writes(mark) == []

    ShopStore().set_setting(cat.shop_id, "update_shipping_templates", True)
    updated = cat.send("DeliveryTemplateReady", changed, ("DeliveryTemplateSynced",))["data"]
    assert updated["updated"] is True and updated["shipping_profile_id"] == first["shipping_profile_id"]
    state = cat.sandbox.app.state
    profile = state.shipping_profiles[first["shipping_profile_id"]]
    assert profile["title"] == "Standard shipping 2"
    dests = {state.destinations[d]["destination_country_iso"] or state.destinations[d]["destination_region"]:
             state.destinations[d] for d in profile["destination_ids"]}
    assert set(dests) == {"US", "eu"}
    assert dests["US"]["primary_cost"] == 500  # the sandbox keeps cents
    ops = [c["operation_id"] for c in cat.writes(mark)]
    assert "createShopShippingProfile" not in ops


def test_worker_dying_after_etsy_created_the_profile_still_makes_one_profile(catalogue):
    cat = catalogue
    cat.admin.add_fault(operation="createShopShippingProfile", kind="drop", when="after", times=1)
    answer = cat.send("DeliveryTemplateReady", template(cat), ("DeliveryTemplateSynced", "EventRejected"), timeout=60)
    assert answer["type"] == "DeliveryTemplateSynced"
    state = cat.sandbox.app.state
    profiles = [p for p in state.shipping_profiles.values() if p["shop_id"] == cat.shop_id]
    assert len(profiles) == 1 and profiles[0]["shipping_profile_id"] == answer["data"]["shipping_profile_id"]
    assert len(profiles[0]["destination_ids"]) == 3
