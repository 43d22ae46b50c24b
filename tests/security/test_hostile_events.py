"""Hostile events (issue 12, items 1-3): nothing stalls, crashes or loops.

Each event here is answered by a rejection that names it where the body can be
read, and the bridge takes the next event at once.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etsyflow.messages import CloudEvent
from etsyflow.schemas import Invalid, validate_event
from etsyflow.schemas.validate import decode

MAX_DEPTH = 32  # the documented nesting limit (README, Security)
from etsyflow.schemas.rejections import invalid_answers

LISTING = {"shop_id": 3, "product_id": "P1", "title": "Mug", "description": "A mug", "price": "12.50",
           "currency": "GBP", "quantity": 4, "taxonomy_id": 1, "who_made": "i_did",
           "when_made": "made_to_order", "delivery_template_id": "T1", "state": "draft"}
TEMPLATE = {"shop_id": 3, "template_id": "T1", "title": "UK", "origin_country_iso": "GB",
            "processing_min_days": 1, "processing_max_days": 3,
            "destinations": [{"country_iso": "GB", "primary_cost": "3.00", "secondary_cost": "1.00",
                              "min_delivery_days": 1, "max_delivery_days": 3}]}
SHIPPED = {"shop_id": 3, "receipt_id": 99, "carrier": "UPS", "tracking_number": "1Z999"}


def envelope(event_type: str, data, event_id: str = "hostile-1") -> dict:
    return {"specversion": "1.0", "type": event_type, "source": "fuzz", "id": event_id,
            "time": "2026-11-29T12:00:00Z", "data": data}


def strict_loads(text: str):
    """What a strict JSON parser (JavaScript's, Go's) accepts: no NaN, no Infinity."""
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def rejection_of(body: bytes | str, max_bytes: int = 262144) -> Invalid:
    with pytest.raises(Invalid) as caught:
        raw = decode(body, max_bytes=max_bytes)
        validate_event(raw)
    return caught.value


# -- 12.1 nesting ----------------------------------------------------------------------

@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 200, 990, 5000])
def test_deeply_nested_event_is_rejected_by_name(depth):
    body = json.dumps(envelope("StockChanged", {"shop_id": 3, "sku": "A", "quantity": 1}, "deep-1"))
    body = body[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
    invalid = rejection_of(body)
    assert invalid.event_id == "deep-1" and invalid.event_type == "StockChanged"
    assert "nested more than" in str(invalid)


def test_nesting_within_the_limit_is_fine():
    raw = decode(json.dumps({"a": [[[[1]]]]}), max_bytes=1000)
    assert raw == {"a": [[[[1]]]]}


# -- 12.2 values that passed validation and then crashed ------------------------------

MONEY_PATHS = [("ListingReady", LISTING, ("price",)), ("ListingReady", LISTING, ("rrp",)),
               ("DeliveryTemplateReady", TEMPLATE, ("destinations", 0, "primary_cost")),
               ("DeliveryTemplateReady", TEMPLATE, ("destinations", 0, "secondary_cost"))]
HUGE_MONEY = ["1e27", "1e30", "1E+400", "9" * 40, "1000000000.01", "NaN", "sNaN", "Infinity", "-Infinity",
              "1e-999999999", 10**30, "0x10", " " * 100 + "1"]


def put(data: dict, path: tuple, value) -> dict:
    data = json.loads(json.dumps(data))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("event_type,base,path", MONEY_PATHS)
@pytest.mark.parametrize("amount", HUGE_MONEY)
def test_money_out_of_range_is_refused_at_validation(event_type, base, path, amount):
    invalid = rejection_of(json.dumps(envelope(event_type, put(base, path, amount))))
    assert invalid.event_id == "hostile-1"
    assert any(e["field"].startswith("data." + path[0]) for e in invalid.errors), invalid.errors


@settings(max_examples=300, deadline=None)
@given(amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000000"), places=2,
                          allow_nan=False, allow_infinity=False))
def test_every_accepted_amount_can_be_formatted_and_published(amount):
    """What validation lets through never fails later (rrp 1e27 once crashed publishing)."""
    data = dict(LISTING, price="0.01", rrp=str(amount))
    event, loaded = validate_event(envelope("ListingReady", data))
    from etsyflow.schemas.listings import rejected_data
    answer = event.follow_up("ListingRejected", rejected_data(loaded, "x"))
    assert strict_loads(answer.to_json())["data"]["rrp"]


@pytest.mark.parametrize("event_type,base,field,value", [
    ("ListingReady", LISTING, "taxonomy_id", 10**30),
    ("ListingReady", LISTING, "taxonomy_id", 2**63),
    ("OrderShipped", SHIPPED, "receipt_id", 2**64),
    ("OrderShipped", SHIPPED, "shop_id", "9" * 400),
    ("StockChanged", {"shop_id": 3, "sku": "A", "quantity": 1}, "quantity", -10**40),
])
def test_integers_out_of_range_are_refused(event_type, base, field, value):
    invalid = rejection_of(json.dumps(envelope(event_type, dict(base, **{field: value}))))
    assert any(e["field"] == f"data.{field}" for e in invalid.errors), invalid.errors


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_nan_and_infinity_are_not_json(token):
    body = json.dumps(envelope("ListingReady", dict(LISTING, product_id="X")), allow_nan=True)
    body = body.replace('"X"', token)
    invalid = rejection_of(body)
    assert "not valid JSON" in str(invalid)
    for answer in invalid_answers(invalid, None, body):
        strict_loads(answer.to_json())


def test_nan_sent_straight_to_an_actor_is_refused():
    raw = envelope("StockChanged", {"shop_id": 3, "sku": "A", "quantity": 1, "extra": float("nan")})
    with pytest.raises(Invalid, match="NaN"):
        validate_event(raw)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_is_never_emitted(value):
    with pytest.raises(ValueError):
        CloudEvent.new("ListingRejected", {"product_id": value}).to_json()
    with pytest.raises(ValueError):
        CloudEvent.new("ListingRejected", {"nested": [{"product_id": value}]}).to_dict()


def test_emitted_values_keep_every_digit_and_their_nulls():
    event = CloudEvent.new("ListingRejected", {"big": 2**70, "none": None, "price": "1.50"})
    assert json.loads(event.to_json())["data"] == {"big": 2**70, "none": None, "price": "1.50"}
    assert event.to_dict()["data"]["big"] == 2**70


@pytest.mark.parametrize("where", ["title", "product_id", "key"])
def test_lone_surrogate_is_refused_at_decode(where):
    data = dict(LISTING)
    if where == "key":
        data["\ud800"] = 1
    else:
        data[where] = "Mug \ud800"
    body = json.dumps(envelope("ListingReady", data))  # \ud800 escaped, as a hostile publisher sends it
    invalid = rejection_of(body)
    assert invalid.event_id == "hostile-1" and invalid.event_type == "ListingReady"
    assert "surrogate" in str(invalid)
    for answer in invalid_answers(invalid, decode(body, max_bytes=10**6), body):
        answer.to_json().encode("utf-8")  # what writing to Redis or the bus does


def test_body_that_is_not_utf8_is_refused():
    invalid = rejection_of(b'{"type": "StockChanged", "id": "x\xff"}')
    assert "UTF-8" in str(invalid)


# -- 12.3 oversized and huge error lists ----------------------------------------------

def test_oversized_event_is_named():
    data = dict(LISTING, description="d" * 300_000)
    invalid = rejection_of(json.dumps(envelope("ListingReady", data, "big-1")))
    assert (invalid.event_type, invalid.event_id) == ("ListingReady", "big-1")
    assert "limit" in str(invalid)


def test_oversized_event_is_named_when_id_comes_after_the_bulk():
    body = ('{"data": {"description": "' + "d" * 300_000 + '", "nested": [{"id": "not-me"}]}, '
            '"specversion": "1.0", "type": "ListingReady", "id": "big-2", "source": "pim"}')
    invalid = rejection_of(body)
    assert (invalid.event_type, invalid.event_id) == ("ListingReady", "big-2")


def test_oversized_garbage_is_rejected_anonymously():
    invalid = rejection_of(b"\xff" * 400_000)
    assert invalid.event_id is None


def test_rejection_of_a_big_invalid_event_is_small():
    data = dict(LISTING, tags=["bad_tag!" + str(i) for i in range(8000)])
    body = json.dumps(envelope("ListingReady", data, "many-errors"))
    assert 100_000 < len(body) < 262144
    invalid = rejection_of(body)
    answers = invalid_answers(invalid, decode(body, max_bytes=262144), body)
    for answer in answers:
        assert len(answer.to_json()) < 30_000, answer.type
    rejected = answers[0].to_dict()["data"]
    assert rejected["id"] == "many-errors"
    assert "more errors not listed" in rejected["errors"][-1]["message"]


@pytest.mark.parametrize("field", ["id", "type", "source"])
def test_huge_envelope_names_are_cut(field):
    raw = envelope("ListingReady", dict(LISTING))
    raw[field] = "n" * 200_000
    body = json.dumps(raw)
    invalid = rejection_of(body, max_bytes=10**6)
    for answer in invalid_answers(invalid, decode(body, max_bytes=10**6), body):
        assert len(answer.to_json()) < 30_000


def test_echoed_values_are_cut():
    data = dict(LISTING, product_id="p" * 100_000, title=None)
    body = json.dumps(envelope("ListingReady", data))
    invalid = rejection_of(body, max_bytes=10**6)
    for answer in invalid_answers(invalid, decode(body, max_bytes=10**6), body):
        assert len(answer.to_json()) < 30_000


# -- the bridge: requeue only on connection errors -----------------------------------

class FakeMessage:
    def __init__(self, body):
        self.body = body
        self.delivery_info = {"routing_key": "StockChanged"}
        self.outcome = None

    def ack(self):
        self.outcome = "ack"

    def requeue(self):
        self.outcome = "requeue"


class FailingActor:
    def __init__(self, error):
        self.error = error

    def send_with_options(self, *, args=(), kwargs=None, **options):  # what the bridge calls
        raise self.error


@pytest.fixture
def bridge_for(embedded):
    from etsyflow.bridge import Bridge
    from etsyflow.messages.bus import connection
    from etsyflow.messages.tail import EventTail

    conn = connection()
    with EventTail() as tail:
        yield (lambda error: Bridge(conn, {"StockChanged": FailingActor(error)})), tail
    conn.release()


VALID_STOCK = json.dumps(envelope("StockChanged", {"shop_id": 3, "sku": "A", "quantity": 1}, "stock-1"))


@pytest.mark.parametrize("error", [RecursionError("deep"), ValueError("bug"), KeyError("x"),
                                   UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")])
def test_bridge_rejects_and_acks_on_anything_but_connection_errors(bridge_for, error):
    make, tail = bridge_for
    bridge = make(error)
    message = FakeMessage(VALID_STOCK)
    bridge.on_message(message)
    assert message.outcome == "ack"
    assert bridge.counts["requeued"] == 0
    [rejected] = tail.wait_for("EventRejected", timeout=5)
    assert rejected["data"]["id"] == "stock-1" and rejected["data"]["type"] == "StockChanged"


def test_bridge_requeues_on_broker_connection_errors(bridge_for):
    import redis.exceptions

    make, _tail = bridge_for
    bridge = make(redis.exceptions.ConnectionError("broker down"))
    message = FakeMessage(VALID_STOCK)
    bridge.on_message(message)
    assert message.outcome == "requeue"
    assert bridge.counts["requeued"] == 1


# -- everything at once, through a running pipeline -------------------------------------

hostile_bodies = st.one_of(
    st.integers(MAX_DEPTH + 1, 3000).map(lambda d: ('{"type": "StockChanged", "id": "h", "data": '
                                                    + "[" * d + "]" * d + "}")),
    st.sampled_from(HUGE_MONEY).map(lambda a: json.dumps(envelope("ListingReady", dict(LISTING, rrp=a)))),
    st.sampled_from(["NaN", "Infinity", "1e999"]).map(
        lambda t: json.dumps(envelope("StockChanged", {"shop_id": 3, "sku": "A", "quantity": 1})).replace(
            '"quantity": 1', '"quantity": ' + t)),
    # A lone surrogate (a high one followed by a low one would be a real character).
    st.integers(0xD800, 0xDFFF).map(
        lambda c: json.dumps(envelope("ListingReady", dict(LISTING, title="T" + chr(c) + "x")))),
)


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=hostile_bodies)
def test_every_hostile_event_gets_a_strict_small_rejection(body):
    try:
        raw = decode(body, max_bytes=262144)
        validate_event(raw)
    except Invalid as invalid:
        for answer in invalid_answers(invalid, None, body):
            text = answer.to_json()
            strict_loads(text)
            text.encode("utf-8")
            assert len(text) < 30_000
    else:
        pytest.fail("a hostile event passed validation")


def test_deep_events_do_not_hold_up_the_next_one(embedded):
    """12 events nested 990 deep once made every valid event wait 13 s (requeued forever)."""
    import time

    from etsyflow.messages import publish_raw
    from etsyflow.messages.tail import EventTail
    from etsyflow.runtime import Runtime

    with EventTail() as tail, Runtime(worker_threads=1) as runtime:
        for i in range(12):
            publish_raw('{"type": "StockChanged", "id": "deep-%d", "data": %s}' % (i, "[" * 990 + "]" * 990),
                        "StockChanged")
        started = time.monotonic()
        publish_raw(json.dumps(envelope("StockChanged", {"shop_id": 3, "sku": "A"}, "marker")), "StockChanged")
        tail.wait_for("EventRejected", lambda e: e["data"]["id"] == "marker", timeout=5)
        assert time.monotonic() - started < 3
        named = {e["data"]["id"] for e in tail.wait_for("EventRejected", count=13, timeout=5)}
        assert {f"deep-{i}" for i in range(12)} <= named
        assert runtime.bridge.counts["requeued"] == 0


json_like = st.text(alphabet='{}[]":,\\ abtyeid0123\ud800', max_size=400)


@settings(max_examples=500, deadline=None)
@given(body=st.one_of(st.binary(max_size=400), json_like, json_like.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_decode_raises_nothing_but_invalid(body):
    """Whatever the bytes, the answer is a value or an Invalid naming at most a short type/id."""
    try:
        raw = decode(body, max_bytes=200)
        validate_event(raw)
    except Invalid as invalid:
        assert invalid.event_type is None or len(invalid.event_type) <= 128
        assert invalid.event_id is None or len(invalid.event_id) <= 128
        for answer in invalid_answers(invalid, None, body):
            strict_loads(answer.to_json())
            answer.to_json().encode("utf-8")
