"""Pure mapping and matrix logic: names → Etsy ids, the on-property lists, one SKU's quantity."""

from decimal import Decimal

import pytest

from etsyflow.schemas import inventory as inv
from etsyflow.catalogue.listings import target_state
from etsyflow.sandbox import taxonomy as sandbox_taxonomy
from etsyflow.schemas import listings as mapping
from etsyflow.schemas import templates as tmapping

DRESSES = 1002
PROPS = sandbox_taxonomy.properties(DRESSES)


def _data(variations=None, **more):
    base = {"shop_id": 1, "product_id": "P1", "sku": "S-1", "title": "Dress", "description": "A dress",
            "price": Decimal("20.00"), "quantity": 3, "taxonomy_id": DRESSES, "variations": variations or [],
            "currency": "USD", "rrp": None}
    base.update(more)
    return base


def _var(sku, color, size, price, qty):
    return {"sku": sku, "options": {"Color": color, "Size": size}, "price": Decimal(price), "quantity": qty}


def test_variations_use_the_category_properties_with_etsy_value_ids_and_scale():
    data = _data([_var("D-BL-S", "Blue", "S", "20.00", 1), _var("D-BL-M", "blue", "M", "20.00", 2),
                  _var("D-RD-S", "Red", "S", "25.00", 0), _var("D-RD-M", "Red", "M", "25.00", 4)])
    products, ids = mapping.inventory_products(data, PROPS, readiness_state_id=77)
    assert ids == [200, 100]
    first = products[0]
    assert first["sku"] == "D-BL-S"
    assert first["property_values"][0] == {"property_id": 200, "property_name": "Primary color", "scale_id": None,
                                           "value_ids": [2], "values": ["Blue"]}
    assert first["property_values"][1]["property_id"] == 100
    assert first["property_values"][1]["scale_id"] == 301  # letter sizes
    assert products[1]["property_values"][0]["values"] == ["Blue"]  # Etsy's spelling, not "blue"
    zero = products[2]["offerings"][0]
    assert zero == {"price": "25.00", "quantity": 0, "is_enabled": False, "readiness_state_id": 77}
    matrix = inv.matrix(products, ids)
    assert matrix["price_on_property"] == [200]          # the price depends on the colour only
    assert matrix["quantity_on_property"] == [200, 100]  # in property_values order (etsy/open-api#375)
    assert matrix["sku_on_property"] == [200, 100]


def test_options_the_category_lacks_become_custom_properties_513_and_514():
    variations = [{"sku": f"N-{i}", "options": {"Engraving": e, "Chain": c}, "price": Decimal("30"), "quantity": 1}
                  for i, (e, c) in enumerate([("Yes", "Short"), ("No", "Short"), ("Yes", "Long"), ("No", "Long")])]
    products, ids = mapping.inventory_products(_data(variations), PROPS, readiness_state_id=5)
    assert ids == [513, 514]
    assert products[0]["property_values"][0] == {"property_id": 513, "property_name": "Engraving", "scale_id": None,
                                                 "value_ids": [], "values": ["Yes"]}
    matrix = inv.matrix(products, ids)
    assert matrix["price_on_property"] == [] and matrix["quantity_on_property"] == []


def test_a_value_the_category_does_not_offer_is_refused_with_the_choices():
    data = _data([_var("A", "Navy", "S", "20.00", 1), _var("B", "Red", "S", "20.00", 1)])
    with pytest.raises(mapping.Unmappable) as error:
        mapping.inventory_products(data, PROPS, readiness_state_id=5)
    assert "'Navy'" in error.value.reason and "Black" in error.value.reason and "1002" in error.value.reason


def test_parentheses_in_variation_values_are_refused():
    data = _data([{"sku": "A", "options": {"Style": "Big (XL)"}, "price": Decimal("5"), "quantity": 1}])
    with pytest.raises(mapping.Unmappable, match="parentheses"):
        mapping.inventory_products(data, PROPS, readiness_state_id=5)


def test_simple_listing_is_one_product_with_its_sku():
    products, ids = mapping.inventory_products(_data(), PROPS, readiness_state_id=9)
    assert ids == [] and products == [{"sku": "S-1", "property_values": [],
                                       "offerings": [{"price": "20.00", "quantity": 3, "is_enabled": True,
                                                      "readiness_state_id": 9}]}]


def test_item_specifics_resolve_by_name_and_value():
    resolved = mapping.resolve_specifics([{"name": "occasion", "value": "wedding"},
                                          {"name": "Material", "value": "Cotton"},
                                          {"name": "Material", "value": "Linen"}], PROPS, DRESSES)
    assert resolved == {506: {"value_ids": [4101], "values": ["Wedding"], "scale_id": None},
                        505: {"value_ids": [4001, 4002], "values": ["Cotton", "Linen"], "scale_id": None}}


@pytest.mark.parametrize("spec, words", [
    ({"name": "Sleeve length", "value": "Long"}, ["no item specific named 'Sleeve length'", "Occasion"]),
    ({"name": "Occasion", "value": "Funeral"}, ["'Funeral' is not a value", "Wedding"]),
])
def test_item_specifics_that_cannot_be_resolved_say_why(spec, words):
    with pytest.raises(mapping.Unmappable) as error:
        mapping.resolve_specifics([spec], PROPS, DRESSES)
    for word in words:
        assert word in error.value.reason


def test_single_valued_specific_refuses_two_values():
    with pytest.raises(mapping.Unmappable, match="takes one value"):
        mapping.resolve_specifics([{"name": "Occasion", "value": "Wedding"},
                                   {"name": "Occasion", "value": "Birthday"}], PROPS, DRESSES)


def test_with_quantity_changes_one_product_and_keeps_the_rest():
    data = _data([_var("A", "Blue", "S", "20.00", 1), _var("B", "Blue", "M", "20.00", 1),
                  _var("C", "Red", "S", "20.00", 1), _var("D", "Red", "M", "20.00", 1)])
    products, ids = mapping.inventory_products(data, PROPS, readiness_state_id=5)
    before = inv.matrix(products, ids)
    assert before["quantity_on_property"] == []
    after = inv.with_quantity(before, "C", 7)
    assert [p["offerings"][0]["quantity"] for p in after["products"]] == [1, 1, 7, 1]
    assert after["quantity_on_property"] == [200, 100]
    assert before["products"][2]["offerings"][0]["quantity"] == 1  # the input is not changed
    zero = inv.with_quantity(after, "C", 0)
    assert zero["products"][2]["offerings"][0]["is_enabled"] is False
    assert inv.in_stock(zero) == 3
    assert inv.in_stock(inv.with_quantity(inv.matrix(*mapping.inventory_products(_data(), PROPS,
                                                                                   readiness_state_id=5)),
                                          "S-1", 0)) == 0


def test_matrix_read_back_from_etsy_compares_equal_to_the_one_written():
    data = _data([_var("A", "Blue", "S", "20.00", 1), _var("B", "Red", "S", "21.50", 2)])
    products, ids = mapping.inventory_products(data, PROPS, readiness_state_id=5)
    written = inv.matrix(products, ids)
    etsy = {"products": [{"product_id": 9, "sku": p["sku"], "is_deleted": False,
                          "offerings": [{"offering_id": 3, "is_deleted": False, "is_enabled": True,
                                         "quantity": p["offerings"][0]["quantity"], "readiness_state_id": None,
                                         "price": {"amount": int(Decimal(p["offerings"][0]["price"]) * 100),
                                                   "divisor": 100, "currency_code": "USD"}}],
                          "property_values": [dict(pv, scale_name=None, value_ids=pv["value_ids"] or [123])
                                              for pv in p["property_values"]]}
                         for p in reversed(products)],
            "price_on_property": [200], "quantity_on_property": [200], "sku_on_property": [200]}
    assert inv.same(mapping.inventory_from_etsy(etsy), written)
    changed = inv.with_quantity(written, "A", 5)
    assert not inv.same(mapping.inventory_from_etsy(etsy), changed)


@pytest.mark.parametrize("wanted, current, stock, expected", [
    ("active", "draft", True, "active"), ("active", "draft", False, "draft"), ("active", "active", False, "inactive"),
    ("draft", "draft", True, "draft"), ("draft", "active", True, "inactive"), ("active", "inactive", True, "active"),
])
def test_target_state(wanted, current, stock, expected):
    assert target_state(wanted, current, stock) == expected


@pytest.mark.parametrize("low, high, expected", [
    (1, 3, {"min_processing_time": 1, "max_processing_time": 3, "processing_time_unit": "days"}),
    (5, 10, {"min_processing_time": 5, "max_processing_time": 10, "processing_time_unit": "days"}),
    (10, 15, {"min_processing_time": 2, "max_processing_time": 3, "processing_time_unit": "weeks"}),
    (14, 70, {"min_processing_time": 2, "max_processing_time": 10, "processing_time_unit": "weeks"}),
])
def test_processing_days_become_an_etsy_processing_profile(low, high, expected):
    form = tmapping.processing_form({"processing_min_days": low, "processing_max_days": high})
    assert form == {"readiness_state": "ready_to_ship", **expected}


def test_shipping_profile_form_takes_the_first_destination_and_costs_as_numbers():
    template = {"shop_id": 1, "template_id": "T", "title": "Standard", "origin_country_iso": "US",
                "origin_postal_code": "10001", "processing_min_days": 1, "processing_max_days": 3,
                "destinations": [{"country_iso": "US", "primary_cost": Decimal("4.50"),
                                  "secondary_cost": Decimal("1"), "min_delivery_days": 2, "max_delivery_days": 5},
                                 {"region": "eu", "primary_cost": Decimal("12"), "secondary_cost": Decimal("3"),
                                  "min_delivery_days": 5, "max_delivery_days": 12}]}
    assert tmapping.profile_form(template) == {
        "title": "Standard", "origin_country_iso": "US", "origin_postal_code": "10001",
        "destination_country_iso": "US", "primary_cost": 4.5, "secondary_cost": 1.0,
        "min_delivery_days": 2, "max_delivery_days": 5}
    assert tmapping.destination_form(template["destinations"][1])["destination_region"] == "eu"
    assert tmapping.destination_key(template["destinations"][1]) == "region:eu"
