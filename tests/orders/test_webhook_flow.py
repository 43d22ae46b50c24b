"""Etsy's ORDER_PAID webhook → the order on the bus within 2 s; forged or stale ones change nothing."""

import base64
import hashlib
import hmac
import json
import threading
import time

import pytest
import requests

from etsy_sandbox.config import DEFAULT_WEBHOOK_SECRET

from .conftest import drain

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver(orders_env):
    from etsyflow.webhooks import PATH, create_app, serve

    server = serve(0, "127.0.0.1", app=create_app())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{PATH}"
    server.shutdown()
    thread.join(5)


def test_order_paid_webhook_brings_the_order_within_2_seconds(shop, receiver, tail, runtime):
    shop.admin.webhooks(url=receiver)
    started = time.monotonic()
    created = shop.admin.create_receipt(shop.shop_id, buyer_name="Wanda Webhook")  # Etsy sends ORDER_PAID
    receipt_id = int(created["receipt_id"])
    assert created["_webhook"]["status"] == 200, created["_webhook"]
    [event] = tail.wait_for("OrderDownloaded", lambda e: e["data"]["order"]["receipt_id"] == receipt_id, timeout=2)
    elapsed = time.monotonic() - started
    assert elapsed <= 2.0
    assert event["data"]["order"]["buyer"]["name"] == "Wanda Webhook"
    [poll_tick] = [e for e in tail.of_type("OrdersPollTick") if e["source"] == "etsyflow.webhooks"]
    assert event["causationid"] == poll_tick["id"]


def _post(url, body: bytes, secret: str, ts: int, msg_id="msg_forged"):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    sig = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    return requests.post(url, data=body, timeout=5, headers={
        "content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(ts),
        "webhook-signature": f"v1,{sig}"})


def test_forged_and_stale_webhooks_are_refused(shop, receiver, tail, runtime):
    body = json.dumps({"event_type": "ORDER_PAID", "shop_id": shop.shop_id,
                       "resource_url": f"{shop.sandbox.url}/v3/application/shops/{shop.shop_id}"}).encode()
    other_secret = "whsec_" + base64.b64encode(b"not-the-signing-secret!!").decode()
    forged = _post(receiver, body, other_secret, int(time.time()))
    stale = _post(receiver, body, DEFAULT_WEBHOOK_SECRET, int(time.time()) - 6 * 60)
    tampered = _post(receiver, body.replace(b"ORDER_PAID", b"ORDER_PAID "), DEFAULT_WEBHOOK_SECRET,
                     int(time.time()))
    assert [r.status_code for r in (forged, stale)] == [401, 401]
    assert "does not match" in forged.json()["reason"] and "old" in stale.json()["reason"]
    assert tampered.status_code in (200, 202)  # signed correctly: only an unknown type → not an order event
    genuine = _post(receiver, body, DEFAULT_WEBHOOK_SECRET, int(time.time()), msg_id="msg_genuine")
    assert genuine.status_code == 200
    drain(tail)
    ticks = [e for e in tail.of_type("OrdersPollTick") if e["source"] == "etsyflow.webhooks"]
    assert len(ticks) == 1  # only the genuine one asked for a poll
