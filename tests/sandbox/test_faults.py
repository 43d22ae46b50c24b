"""Fault injection: Etsy failing, slow or gone, before or after carrying out a call."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT


def test_status_fault_for_the_next_n_calls(sandbox, shop, etsy):
    sandbox.admin.add_fault(operation="getShop", status=503, times=2)
    codes = [etsy.get(f"/shops/{shop['shop_id']}").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert etsy.get("/users/me").status_code == 200  # other operations untouched
    assert sandbox.admin.faults() == []
    assert sandbox.admin.counters()["faults_injected"] == 2


def test_injected_429_carries_retry_after_and_is_not_a_real_429(sandbox, shop, etsy):
    sandbox.admin.add_fault(operation="*", status=429, headers={"retry-after": "7"}, times=1)
    reply = etsy.get("/users/me")
    assert reply.status_code == 429 and reply.headers["retry-after"] == "7"
    assert reply.json() == {"error": "Exceeded per second rate limit"}
    assert "x-limit-per-second" in reply.headers
    assert sandbox.admin.counters()["rate_limited_429"] == 0


def test_custom_body_and_probability(sandbox, shop, etsy):
    sandbox.admin.add_fault(operation="getMe", status=400, body={"error": "weird"}, times=1)
    assert etsy.get("/users/me").json() == {"error": "weird"}
    rule = sandbox.admin.add_fault(operation="getMe", status=500, probability=0.0)
    assert all(etsy.get("/users/me").status_code == 200 for _ in range(5))
    sandbox.admin.request("DELETE", f"/faults/{rule['id']}")
    assert sandbox.admin.faults() == []


def test_dropped_connection(sandbox, shop, etsy):
    sandbox.admin.add_fault(operation="getMe", kind="drop", times=1)
    with pytest.raises(requests.ConnectionError):
        etsy.get("/users/me")
    assert etsy.get("/users/me").status_code == 200
    assert sandbox.admin.calls(operation_id="getMe")[0]["status"] == 0


def test_delay_beyond_the_client_timeout(sandbox, shop, etsy):
    sandbox.admin.add_fault(operation="getMe", kind="delay", delay_seconds=3, times=1)
    with pytest.raises(requests.ReadTimeout):
        etsy.session.get(etsy.base + "/users/me", timeout=0.5)


def test_change_applied_then_504(sandbox, shop, etsy):
    sid = shop["shop_id"]
    rid = sandbox.admin.create_receipt(sid, country_iso="GB")["receipt_id"]
    sandbox.admin.add_fault(operation="createReceiptShipment", when="after", status=504, times=1)
    reply = etsy.post(f"/shops/{sid}/receipts/{rid}/tracking", json={"tracking_code": "RM9", "carrier_name": "royal-mail"})
    assert reply.status_code == 504
    shipments = sandbox.admin.receipt(rid)["receipt"]["shipments"]
    assert [s["tracking_code"] for s in shipments] == ["RM9"]  # recorded although the caller saw a failure


def test_change_applied_then_hang(sandbox, shop, etsy):
    sid = shop["shop_id"]
    rid = sandbox.admin.create_receipt(sid, country_iso="GB")["receipt_id"]
    sandbox.admin.add_fault(operation="createReceiptShipment", when="after", kind="delay", delay_seconds=3, times=1)
    with pytest.raises(requests.ReadTimeout):
        etsy.session.post(etsy.base + f"/shops/{sid}/receipts/{rid}/tracking",
                          json={"tracking_code": "RM9", "carrier_name": "royal-mail"}, timeout=0.5)
    assert len(sandbox.admin.receipt(rid)["receipt"]["shipments"]) == 1


def test_token_endpoint_faults(sandbox, shop):
    sandbox.admin.add_fault(operation="oauthToken", status=500, times=1)
    form = {"grant_type": "refresh_token", "client_id": sandbox.keystring, "refresh_token": shop["refresh_token"]}
    url = sandbox.url + "/v3/public/oauth/token"
    assert requests.post(url, data=form, timeout=TIMEOUT).status_code == 500
    assert requests.post(url, data=form, timeout=TIMEOUT).status_code == 200  # token untouched by the failure


def test_bad_rules_are_refused(sandbox):
    for rule in ({"kind": "explode"}, {"status": 99}, {"kind": "delay"}, {"times": 0}, {"probability": 2},
                 {"surprise": 1}):
        reply = sandbox.admin.session.post(sandbox.admin.base + "/faults", json=rule, timeout=TIMEOUT)
        assert reply.status_code == 400 and "error" in reply.json(), rule
