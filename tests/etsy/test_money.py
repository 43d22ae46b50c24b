"""Money objects <-> Decimal, and the inventory body Etsy accepts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from etsyflow.etsy import inventory_for_update
from etsyflow.etsy.errors import PermanentError
from etsyflow.etsy.money import (MoneyError, decimal_to_money, format_decimal, money_to_decimal,
                                 to_decimal, to_etsy_price)


def test_money_to_decimal_is_exact():
    assert money_to_decimal({"amount": 2499, "divisor": 100, "currency_code": "USD"}) == Decimal("24.99")
    assert money_to_decimal({"amount": 1999, "divisor": 1000, "currency_code": "KWD"}) == Decimal("1.999")
    assert money_to_decimal({"amount": 500, "divisor": 1, "currency_code": "JPY"}) == Decimal("500")
    assert money_to_decimal(None) is None


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from([1, 100, 1000]))
def test_round_trip(amount, divisor):
    money = {"amount": amount, "divisor": divisor, "currency_code": "EUR"}
    assert decimal_to_money(money_to_decimal(money), "EUR", divisor) == money


def test_decimal_to_money_rounds_half_even():
    assert decimal_to_money("24.995", "USD") == {"amount": 2500, "divisor": 100, "currency_code": "USD"}
    assert decimal_to_money("0.125", "USD")["amount"] == 12


@pytest.mark.parametrize("bad", [24.99, True, "abc", "NaN", "Infinity", None])
def test_not_money_is_refused(bad):
    with pytest.raises(MoneyError):
        to_decimal(bad)


def test_broken_money_object_is_refused():
    with pytest.raises(MoneyError):
        money_to_decimal({"divisor": 100})


def test_prices_for_etsy_requests():
    assert to_etsy_price("24.99") == 24.99
    assert to_etsy_price(Decimal("10")) == 10.0
    assert format_decimal(Decimal("3.5")) == "3.50"


def test_inventory_for_update_strips_read_only_fields_and_sends_float_prices():
    read = {
        "products": [
            {"product_id": 1, "sku": "A-S", "is_deleted": False, "scale_name": None,
             "property_values": [{"property_id": 513, "property_name": "Size", "scale_id": None,
                                  "scale_name": None, "value_ids": [1], "values": ["S"]}],
             "offerings": [{"offering_id": 9, "price": {"amount": 2499, "divisor": 100, "currency_code": "USD"},
                            "quantity": 3, "is_enabled": True, "is_deleted": False, "readiness_state_id": 7}]},
            {"product_id": 2, "sku": "gone", "is_deleted": True, "property_values": [], "offerings": []},
        ],
        "price_on_property": [513], "quantity_on_property": [], "sku_on_property": [513],
        "listing": {"listing_id": 5},
    }
    body = inventory_for_update(read)
    assert body == {
        "products": [{"sku": "A-S",
                      "property_values": [{"property_id": 513, "property_name": "Size", "scale_id": None,
                                           "value_ids": [1], "values": ["S"]}],
                      "offerings": [{"price": 24.99, "quantity": 3, "is_enabled": True, "readiness_state_id": 7}]}],
        "price_on_property": [513], "quantity_on_property": [], "sku_on_property": [513],
    }
    assert read["products"][0]["product_id"] == 1  # the input is not changed


def test_inventory_without_products_is_refused_before_any_call():
    with pytest.raises(PermanentError, match="at least one product"):
        inventory_for_update({"products": []})
