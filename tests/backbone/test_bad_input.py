"""1,000 invalid events in a row each get their EventRejected; the next valid one is processed."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etsyflow.messages import CloudEvent, publish, publish_raw
from etsyflow.messages.tail import EventTail
from etsyflow.runtime import Runtime

VALID = {
    "StockChanged": {"shop_id": 3, "sku": "S-1", "quantity": 5},
    "OrderShipped": {"shop_id": 3, "receipt_id": 99, "carrier": "UPS", "tracking_number": "1Z999",
                     "shipped_at": "2026-11-29T10:00:00Z", "note_to_buyer": "thanks"},
    "ListingReady": {"shop_id": 3, "product_id": "P1", "title": "Mug", "description": "A mug", "price": "12.50",
                     "currency": "GBP", "quantity": 4, "taxonomy_id": 1, "who_made": "i_did",
                     "when_made": "made_to_order", "delivery_template_id": "T1", "state": "draft"},
    "DeliveryTemplateReady": {"shop_id": 3, "template_id": "T1", "title": "UK", "origin_country_iso": "GB",
                              "processing_min_days": 1, "processing_max_days": 3,
                              "destinations": [{"country_iso": "GB", "primary_cost": "3.00", "secondary_cost": "1.00",
                                                "min_delivery_days": 1, "max_delivery_days": 3}]},
}
# Wrong values by kind of field: each is invalid for every field of that kind.
MONEY_FIELDS = {"price"}
OPTIONAL_FIELDS = {"note_to_buyer", "shipped_at", "state"}
WRONG_BY_KIND = {
    "money": [2.5, "many", [], True, "-3"],
    "str": [123, [], {}, True],
    "int": ["many", 2.5, [], True, -1],
    "list": ["x", 5, {}],
}


def kind(field: str, value) -> str:
    if field in MONEY_FIELDS:
        return "money"
    if isinstance(value, bool) or isinstance(value, int):
        return "int"
    return "list" if isinstance(value, list) else "str"


ENVELOPE_BREAKERS = [("specversion", "0.3"), ("type", "NoSuchEvent"), ("id", ""), ("source", None),
                     ("data", "not an object"), ("data", [1, 2])]


def envelope(event_type: str, data) -> dict:
    return {"specversion": "1.0", "type": event_type, "source": "fuzz", "id": "fuzz-1",
            "time": "2026-11-29T12:00:00Z", "datacontenttype": "application/json", "data": data}


@st.composite
def broken_data(draw):
    """A valid event with one required field removed or given a wrong value."""
    event_type = draw(st.sampled_from(sorted(VALID)))
    data = json.loads(json.dumps(VALID[event_type]))
    if draw(st.booleans()):
        del data[draw(st.sampled_from(sorted(set(data) - OPTIONAL_FIELDS)))]
    else:
        field = draw(st.sampled_from(sorted(data)))
        data[field] = draw(st.sampled_from(WRONG_BY_KIND[kind(field, data[field])]))
    return json.dumps(envelope(event_type, data)).encode()


@st.composite
def broken_envelope(draw):
    event_type = draw(st.sampled_from(sorted(VALID)))
    raw = envelope(event_type, VALID[event_type])
    key, value = draw(st.sampled_from(ENVELOPE_BREAKERS))
    raw[key] = value
    return json.dumps(raw).encode()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)
invalid_bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    broken_data(),
    broken_envelope(),
)


@pytest.fixture(scope="module")
def pipeline():
    from etsy_sandbox.testing import run_sandbox
    from tests.conftest import _reset_memory_bus, apply_env, connect_shop

    _reset_memory_bus()
    with run_sandbox() as sandbox:
        apply_env(**sandbox.env())
        shop_id = connect_shop(sandbox)
        with EventTail() as tail, Runtime(worker_threads=2) as runtime:
            yield tail, runtime, shop_id
    _reset_memory_bus()


@settings(max_examples=1000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=invalid_bodies)
def test_every_invalid_event_gets_an_event_rejected(pipeline, body):
    tail, runtime, _shop = pipeline
    before = len(tail.of_type("EventRejected"))
    publish_raw(body, "Fuzz")
    rejections = tail.wait_for("EventRejected", count=before + 1, timeout=10)
    assert rejections[-1]["data"]["errors"], "a rejection names its reasons"


def test_a_valid_event_after_the_bad_ones_is_processed(pipeline):
    tail, runtime, shop_id = pipeline
    assert len(tail.of_type("EventRejected")) >= 1000, "runs after the 1,000 invalid events"
    cause = publish(CloudEvent.new("StockChanged", dict(VALID["StockChanged"], shop_id=shop_id), source="pim"))
    # No listing has this SKU yet: Etsy is asked, and the answer is a StockRejected.
    [done] = tail.wait_for("StockRejected", lambda e: e["causationid"] == cause.id, timeout=15)
    assert "S-1" in done["data"]["reason"]
    assert runtime.bridge.counts["requeued"] == 0
