"""Etsy's webhook notifications, signed the Standard Webhooks way.

Headers ``webhook-id``, ``webhook-timestamp`` (epoch seconds) and
``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``
where ``key`` is the base64-decoded part of the ``whsec_…`` signing secret.
The payload is thin, as Etsy's: ``event_type``, ``resource_url``, ``shop_id``.
Hand-written (a dozen lines) rather than the ``standardwebhooks`` package so
the sandbox does not depend on the code it helps to test.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time

import requests


def valid_secret(secret) -> bool:
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        return False
    try:
        return bool(base64.b64decode(secret[len("whsec_"):], validate=True))
    except (binascii.Error, ValueError):
        return False


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for ``body``."""
    key = base64.b64decode(secret[len("whsec_"):])
    message = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def payload(shop_id: int, receipt_id: int | None, event_type: str, base_url: str) -> dict:
    resource = f"{base_url}/v3/application/shops/{shop_id}"
    if receipt_id is not None:
        resource += f"/receipts/{receipt_id}"
    return {"event_type": event_type, "resource_url": resource, "shop_id": shop_id}


def send(state, url: str, shop_id: int, receipt_id: int | None, event_type: str, base_url: str,
         *, secret: str | None = None) -> dict:
    """POST one signed notification to ``url``; returns what happened (never raises)."""
    secret = secret or state.config.webhook_signing_secret
    webhook_id = "msg_" + secrets.token_hex(12)
    timestamp = int(time.time())
    body = json.dumps(payload(shop_id, receipt_id, event_type, base_url), separators=(",", ":")).encode()
    headers = {"content-type": "application/json", "webhook-id": webhook_id,
               "webhook-timestamp": str(timestamp), "webhook-signature": sign(secret, webhook_id, timestamp, body)}
    record = {"webhook_id": webhook_id, "url": url, "event_type": event_type, "shop_id": shop_id,
              "receipt_id": receipt_id, "time": timestamp}
    try:
        response = requests.post(url, data=body, headers=headers, timeout=state.config.webhook_timeout_seconds)
        record.update(status=response.status_code, delivered=200 <= response.status_code < 300)
    except requests.RequestException as error:
        record.update(status=None, delivered=False, error=f"{type(error).__name__}: {error}")
    with state.lock:
        state.webhooks_sent.append(record)
    return record
