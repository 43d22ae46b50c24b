"""``publish(event)``: put one event on the bus, for Python callers.

Publishing is confirmed where the transport supports it and retried on
connection errors under a bounded policy; a failure raises, so a caller that
acknowledges its own input only after ``publish`` returns never loses anything.
"""

from __future__ import annotations

import threading

from kombu import Connection
from kombu.pools import producers

from ..config.logging import get_logger
from .bus import EXCHANGE, RETRY_POLICY, connection
from .envelope import CloudEvent

log = get_logger("etsyflow.messages")

_lock = threading.Lock()
_connection: Connection | None = None
_listeners: list = []


def add_listener(callback) -> None:
    """Call ``callback(event)`` after each successful publish (metrics, demo timeline)."""
    _listeners.append(callback)


def _shared_connection() -> Connection:
    global _connection
    with _lock:
        if _connection is None:
            _connection = connection()
        return _connection


def reset_publisher() -> None:
    """Drop the cached connection (after settings change, in tests)."""
    global _connection
    with _lock:
        if _connection is not None:
            try:
                _connection.release()
            except Exception:  # pragma: no cover - best effort on shutdown
                pass
        _connection = None


def publish_raw(body: str | bytes, routing_key: str, *, conn: Connection | None = None) -> None:
    """Publish a JSON body as-is (used by ``etsyflow publish`` for any JSON).

    On Redis, kombu's publish batch writes the copy for every bound queue in
    one round trip (one ``LPUSH`` each, pipelined) instead of one round trip
    per queue; a batch is written once, without kombu's retry, so when it
    fails on a connection error the body is published again the ordinary
    way, under :data:`.bus.RETRY_POLICY` (a subscriber may then see it twice,
    with the same id, as at-least-once delivery allows).
    """
    conn = conn or _shared_connection()
    with producers[conn].acquire(block=True, timeout=10) as producer:
        options = dict(exchange=EXCHANGE, routing_key=routing_key, declare=[EXCHANGE],
                       content_type="application/json", content_encoding="utf-8", delivery_mode=2,
                       retry=True, retry_policy=RETRY_POLICY)
        if producer.supports_batch_publish:
            try:
                with producer.batch():
                    producer.publish(body, **options)
                return
            except producer.connection.connection_errors as error:
                log.warning("batched publish failed; publishing again", error=str(error))
        producer.publish(body, **options)


def publish(event: CloudEvent, *, conn: Connection | None = None) -> CloudEvent:
    """Publish ``event`` with routing key = its type; returns it."""
    publish_raw(event.to_json(), event.type, conn=conn)
    log.info("event published", published_type=event.type, published_id=event.id,
             causationid=event.causationid)
    for callback in list(_listeners):
        try:
            callback(event)
        except Exception:  # a listener must never break publishing
            log.exception("publish listener failed")
    return event
