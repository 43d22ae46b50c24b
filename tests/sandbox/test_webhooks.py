"""Signed ORDER_PAID notifications (Standard Webhooks), checked by an independent verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@pytest.fixture
def receiver():
    """A local HTTP endpoint that queues what it receives."""
    got: queue.Queue = queue.Queue()

    def app(environ, start_response):
        request = Request(environ)
        got.put((dict(request.headers), request.get_data()))
        return Response("ok")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    thread.join(5)


def verify(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['Webhook-Id']}.{headers['Webhook-Timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part == f"v1,{expected}" for part in headers["Webhook-Signature"].split(" "))


def test_send_one_signed_notification(sandbox, shop, receiver):
    url, got = receiver
    rid = sandbox.admin.create_receipt(shop["shop_id"])["receipt_id"]
    result = sandbox.admin.send_webhook(shop["shop_id"], url=url, receipt_id=rid)
    assert result["delivered"] and result["status"] == 200
    headers, body = got.get(timeout=5)
    secret = sandbox.admin.webhooks()["signing_secret"]
    assert verify(secret, headers, body)
    assert abs(int(headers["Webhook-Timestamp"]) - time.time()) < 60
    payload = json.loads(body)
    assert payload == {"event_type": "ORDER_PAID", "shop_id": shop["shop_id"],
                       "resource_url": f"{sandbox.url}/v3/application/shops/{shop['shop_id']}/receipts/{rid}"}
    assert not verify("whsec_" + base64.b64encode(b"another-secret-key").decode(), headers, body)


def test_payment_sends_order_paid_automatically(sandbox, shop, receiver):
    url, got = receiver
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    sandbox.admin.webhooks(url=url, signing_secret=secret)
    rid = sandbox.admin.create_receipt(shop["shop_id"], was_paid=False)["receipt_id"]
    assert got.empty()
    sandbox.admin.receipt_action(rid, "pay")
    headers, body = got.get(timeout=5)
    assert verify(secret, headers, body) and json.loads(body)["resource_url"].endswith(f"/receipts/{rid}")
    deliveries = sandbox.admin.webhooks()["deliveries"]
    assert deliveries[-1]["receipt_id"] == rid and deliveries[-1]["delivered"]
    sandbox.admin.webhooks(url=None)


def test_unreachable_receiver_is_reported_not_raised(sandbox, shop):
    result = sandbox.admin.send_webhook(shop["shop_id"], url="http://127.0.0.1:9/nothing-listens")
    assert result["delivered"] is False and result["error"]
