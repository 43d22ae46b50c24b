"""The webhook receiver: Etsy's ``ORDER_PAID`` → an immediate ``OrdersPollTick`` for that shop.

``POST /webhooks/etsy`` — the URL to register in Etsy's developer portal.

=====  =====================================================================
200    accepted: a poll tick for the shop is on the bus (or a duplicate of
       a notification already accepted — same ``webhook-id``)
202    verified but not acted on (another event type, a shop not connected)
400    unreadable: not UTF-8 (checked first: a signature covers text), not a
       JSON object, no shop id
401    signature missing or wrong, or ``webhook-timestamp`` more than 5 min off
413    body larger than :data:`MAX_BODY_BYTES`, also when sent chunked
503    the bus did not take the tick: Etsy retries, nothing is lost
=====  =====================================================================

Etsy's payload is thin (``event_type``, ``resource_url``, ``shop_id``): it is
treated as "poll this shop now"; the poll downloads the order with the rest.
Each ``webhook-id`` is remembered for twice the timestamp tolerance, so a
notification Etsy re-sends is answered 200 without a second tick. The tick's
id is derived from the ``webhook-id`` too.

``GET /healthz`` answers 200 for load balancers.

:func:`serve` runs the app on waitress (the project's WSGI server): loopback
by default, a bounded number of threads and connections, idle connections
closed after :data:`CHANNEL_TIMEOUT_SECONDS`, bodies capped before the app
sees them.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
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
#: Threads answering requests (waitress); requests beyond wait in its queue.
THREADS = 8
#: Open connections at most; more wait in the listen backlog.
CONNECTION_LIMIT = 100
#: A connection idle (or sending its request slowly) this long is closed, seconds.
CHANNEL_TIMEOUT_SECONDS = 15
#: Default address: loopback. Put a TLS proxy in front, or pass --host 0.0.0.0.
DEFAULT_HOST = "127.0.0.1"
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
        # Read at most one byte past the limit, whatever the framing (waitress has
        # already decoded a chunked body and refused one over its own cap).
        body = request.stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return answer(413, "rejected", f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return answer(400, "rejected", "body is not UTF-8 text")
        try:
            webhook_id = verifier.verify(body, request.headers)
        except BadSignature as bad:
            log.warning("webhook refused", reason=str(bad), remote=request.remote_addr)
            return answer(401, "rejected", str(bad))
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
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


class Server:
    """waitress serving one app: ``serve_forever()`` in one thread, ``shutdown()`` from
    any other (returns at once; ``serve_forever`` returns within about a second)."""

    def __init__(self, app, host: str, port: int):
        from waitress.server import create_server

        self._server = create_server(
            app, host=host, port=port, threads=THREADS, connection_limit=CONNECTION_LIMIT,
            channel_timeout=CHANNEL_TIMEOUT_SECONDS, cleanup_interval=5,
            max_request_body_size=MAX_BODY_BYTES, max_request_header_size=16 * 1024,
            clear_untrusted_proxy_headers=True, ident="etsyflow")
        self.server_port = self._server.effective_port
        self._closing = threading.Event()

    def serve_forever(self) -> None:
        try:
            self._server.run()
        finally:
            self._server.task_dispatcher.shutdown(timeout=5)

    def shutdown(self) -> None:
        """Close the listening socket and every connection, in the server's own thread."""
        from waitress import wasyncore

        if self._closing.is_set():
            return
        self._closing.set()
        self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))


def serve(port: int, host: str = DEFAULT_HOST, *, app: Flask | None = None) -> Server:
    """The webhook receiver on waitress; call ``.serve_forever()`` / ``.shutdown()``."""
    return Server(app or create_app(), host, port)
