"""The webhook receiver: Etsy's ``ORDER_PAID`` → an immediate ``OrdersPollTick`` for that shop.

``POST /webhooks/etsy`` — the URL to register in Etsy's developer portal.

=====  =====================================================================
200    accepted: a poll tick for the shop is on the bus (or a duplicate of
       a notification already accepted — same ``webhook-id``)
202    verified but not acted on (another event type, a shop not connected)
400    verified but unreadable (not a JSON object, no shop id)
401    signature missing or wrong, or ``webhook-timestamp`` more than 5 min off
413    body larger than :data:`MAX_BODY_BYTES`
503    the bus did not take the tick: Etsy retries, nothing is lost
=====  =====================================================================

Etsy's payload is thin (``event_type``, ``resource_url``, ``shop_id``): it is
treated as "poll this shop now"; the poll downloads the order with the rest.
Each ``webhook-id`` is remembered for twice the timestamp tolerance, so a
notification Etsy re-sends is answered 200 without a second tick. The tick's
id is derived from the ``webhook-id`` too.

``GET /healthz`` answers 200 for load balancers.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid

from flask import Flask, jsonify, request

from ..config import get_settings
from ..config.logging import get_logger
from ..messages import CloudEvent, EventType, publish
from ..shops.store import ShopStore
from ..state import get_redis
from .verify import TOLERANCE_SECONDS, BadSignature, Verifier

log = get_logger("etsyflow.webhooks")

PATH = "/webhooks/etsy"
SOURCE = "etsyflow.webhooks"
MAX_BODY_BYTES = 64 * 1024
#: Etsy event types that mean "an order appeared or changed".
ORDER_EVENTS = {"ORDER_PAID"}
_TICK_NS = uuid.UUID("0e4b8f61-7a2c-4d9e-b5f3-1c6a8d2e9f07")
_SHOP_IN_URL = re.compile(r"/shops/(\d+)(?:/|$)")


def _seen_key(webhook_id: str) -> str:
    return "etsyflow:webhooks:seen:" + hashlib.sha256(webhook_id.encode()).hexdigest()[:32]


def _shop_id(payload: dict) -> int | None:
    raw = payload.get("shop_id")
    if isinstance(raw, bool):
        raw = None
    if isinstance(raw, (int, str)) and str(raw).strip().isdigit() and int(raw) > 0:
        return int(raw)
    url = payload.get("resource_url")
    if isinstance(url, str):
        match = _SHOP_IN_URL.search(url)
        if match:
            return int(match.group(1))
    return None


def create_app(secret: str | None = None, *, redis=None, publish_event=publish) -> Flask:
    """The Flask app. ``secret`` defaults to ``WEBHOOK_SIGNING_SECRET``; without one it refuses to start."""
    secret = secret or get_settings().webhook_signing_secret
    if not secret:
        raise ValueError("WEBHOOK_SIGNING_SECRET is not set: the receiver cannot verify Etsy's signatures")
    verifier = Verifier(secret)
    if redis is None:
        redis = get_redis()
    app = Flask("etsyflow.webhooks")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    def answer(status: int, outcome: str, reason: str | None = None, **more):
        body = {"status": outcome, **({"reason": reason} if reason else {}), **more}
        return jsonify(body), status

    @app.get("/healthz")
    def healthz():
        return answer(200, "ok")

    @app.errorhandler(413)
    def too_large(_error):
        return answer(413, "rejected", f"body larger than {MAX_BODY_BYTES} bytes")

    @app.post(PATH)
    def receive():
        body = request.get_data(cache=False)
        try:
            webhook_id = verifier.verify(body, request.headers)
        except BadSignature as bad:
            log.warning("webhook refused", reason=str(bad), remote=request.remote_addr)
            return answer(401, "rejected", str(bad))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return answer(400, "rejected", "body is not a JSON object")
        event_type = str(payload.get("event_type") or "")
        shop_id = _shop_id(payload)
        if event_type not in ORDER_EVENTS:
            log.info("webhook ignored", event_type=event_type, shop_id=shop_id)
            return answer(202, "ignored", f"event_type {event_type!r} does not concern orders")
        if shop_id is None:
            return answer(400, "rejected", "no shop_id (nor a /shops/<id>/ resource_url) in the notification")

        if ShopStore(redis).get(shop_id) is None:
            log.warning("webhook for a shop that is not connected", shop_id=shop_id)
            return answer(202, "ignored", f"shop {shop_id} is not connected")
        key = _seen_key(webhook_id)
        if not redis.set(key, b"1", nx=True, ex=2 * TOLERANCE_SECONDS):
            return answer(200, "duplicate")
        tick = CloudEvent.new(EventType.ORDERS_POLL_TICK, {"shop_id": shop_id}, source=SOURCE,
                              id=str(uuid.uuid5(_TICK_NS, webhook_id)))
        try:
            publish_event(tick)
        except Exception as error:
            redis.delete(key)  # let Etsy's retry through
            log.error("could not publish poll tick for webhook", shop_id=shop_id, error=str(error))
            return answer(503, "retry", "event bus unavailable")
        log.info("webhook accepted; shop poll requested", shop_id=shop_id, event_type=event_type, tick_id=tick.id)
        return answer(200, "accepted", tick_id=tick.id)

    return app


def serve(port: int, host: str = "0.0.0.0", *, app: Flask | None = None):
    """A threaded WSGI server for ``app`` (werkzeug); call ``.serve_forever()`` / ``.shutdown()``."""
    from werkzeug.serving import make_server

    return make_server(host, port, app or create_app(), threaded=True)
