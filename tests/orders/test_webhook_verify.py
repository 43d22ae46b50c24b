"""Etsy's signed notifications: only genuine, fresh ones pass (Standard Webhooks)."""

import base64
import hashlib
import hmac
import time

import pytest

from etsyflow.webhooks.verify import BadSignature, Verifier

SECRET = "whsec_" + base64.b64encode(b"etsyflow-test-signing-key-01").decode()
BODY = b'{"event_type":"ORDER_PAID","resource_url":"https://openapi.etsy.com/v3/application/shops/31000001/receipts/3100000001","shop_id":31000001}'


def sign(body: bytes, msg_id: str, ts: int, secret: str = SECRET) -> str:
    """Written from the spec, independently of the library under test."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(body=BODY, msg_id="msg_1", ts=None, secret=SECRET, signature=None):
    ts = int(time.time()) if ts is None else ts
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": signature or sign(body, msg_id, ts, secret)}


def test_genuine_notification_passes():
    assert Verifier(SECRET).verify(BODY, headers()) == "msg_1"


def test_one_of_several_signatures_may_match():
    h = headers()
    h["webhook-signature"] = "v1,AAAA " + h["webhook-signature"]  # key rotation: old and new
    assert Verifier(SECRET).verify(BODY, h) == "msg_1"


@pytest.mark.parametrize("case, make, reason", [
    ("wrong secret", lambda: headers(secret="whsec_" + base64.b64encode(b"another-key").decode()),
     "does not match"),
    ("body changed", lambda: headers(body=b'{"shop_id": 1}'), "does not match"),
    ("too old", lambda: headers(ts=int(time.time()) - 301), "old"),
    ("from the future", lambda: headers(ts=int(time.time()) + 400), "future"),
    ("garbage signature", lambda: headers(signature="nonsense"), "malformed"),
    ("bad base64", lambda: headers(signature="v1,%%%"), "does not match"),
    ("timestamp not a number", lambda: {**headers(), "webhook-timestamp": "yesterday"}, "not a number"),
])
def test_forged_or_stale_notifications_are_refused(case, make, reason):
    with pytest.raises(BadSignature, match=reason):
        Verifier(SECRET).verify(BODY, make())


def test_missing_headers_are_named():
    with pytest.raises(BadSignature, match="webhook-signature"):
        Verifier(SECRET).verify(BODY, {"webhook-id": "x", "webhook-timestamp": str(int(time.time()))})


def test_header_names_are_case_insensitive():
    h = {k.title(): v for k, v in headers().items()}
    assert Verifier(SECRET).verify(BODY, h) == "msg_1"


@pytest.mark.parametrize("secret", ["", "   ", "whsec_!!!notbase64"])
def test_unusable_secret_is_refused_at_start(secret):
    with pytest.raises(ValueError, match="WEBHOOK_SIGNING_SECRET"):
        Verifier(secret)
