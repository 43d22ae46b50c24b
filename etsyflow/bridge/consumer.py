"""The bridge: consumes events from the bus and hands each to its actor.

Built on kombu's :class:`~kombu.mixins.ConsumerMixin`, which reconnects on
connection errors. Bodies are taken raw (``on_message``), so an undecodable
body is answered, not fatal. Every event gets exactly one outcome before it
is acknowledged:

- valid inbound event → its actor's message is enqueued (the enqueue returns
  only once the broker has it), then the event is acked; the message carries
  the loaded data, so the actor does not validate it again
  (:mod:`etsyflow.schemas.loaded`);
- invalid (bad JSON, not an object, unknown type, missing or wrong fields,
  oversized) → an ``EventRejected`` carrying every field error is published
  and a warning logged, then the event is acked;
- etsyflow's own follow-ups (they pass on the same exchange) → acked, skipped
  (by routing key, before decoding);
- the broker or bus cannot take the outcome (a connection error, and only
  that) → the event is requeued after a bounded pause, so nothing accepted is
  lost;
- anything else going wrong while handling it (a bug, an input no check
  foresaw) → an ``EventRejected`` naming the event, then the event is acked:
  one bad event never loops or stalls the queue.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import redis.exceptions
from kombu.exceptions import OperationalError
from kombu.mixins import ConsumerMixin

from ..config import get_settings
from ..config.logging import get_logger
from ..messages import INBOUND, OUTBOUND, publish
from ..messages.envelope import SOURCE
from ..messages.bus import BRIDGE_QUEUE
from ..schemas import Invalid
from ..schemas.loaded import pack
from ..schemas.rejections import invalid_answers
from ..schemas.validate import PEEK_CEILING_BYTES, decode, peek_names, validate_event
from ..workers.broker import BROKER_CONNECTION_ERRORS

log = get_logger("etsyflow.bridge")

# Pause (seconds) before taking an event again after the broker refused it.
REQUEUE_PAUSE_SECONDS = 1.0
# Events in flight between the bus and the bridge (unacked), per bridge.
PREFETCH = 64


def is_connection_error(error: BaseException, connection=None) -> bool:
    """True when ``error`` says the broker or the bus cannot be reached (worth
    a retry), False for anything else (the event itself, or a bug)."""
    kinds: tuple = (OSError, OperationalError, *BROKER_CONNECTION_ERRORS,
                    redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
    if connection is not None:
        try:
            kinds += tuple(connection.connection_errors) + tuple(connection.channel_errors)
        except Exception:  # a transport that cannot say: the defaults above
            pass
    return isinstance(error, kinds)


class _Stopping(Exception):
    """Raised inside kombu's reconnection loop once the bridge was asked to stop."""


class Bridge(ConsumerMixin):
    """``Bridge(connection, actors).run()``; set ``should_stop = True`` to stop.

    Stops within about a second in every state: between events, and also while
    the bus is away (kombu's reconnection loop, which never looks at
    ``should_stop`` by itself, checks it every second through its callback).
    """

    def __init__(self, connection, actors: dict, *, max_event_bytes: int | None = None):
        self.connection = connection
        self.actors = actors
        self.max_event_bytes = max_event_bytes or get_settings().max_event_bytes
        self.ready = threading.Event()
        self.counts = {"forwarded": 0, "rejected": 0, "skipped": 0, "requeued": 0}

    # kombu ConsumerMixin hooks -------------------------------------------------
    def get_consumers(self, Consumer, channel):
        return [Consumer(queues=[BRIDGE_QUEUE], on_message=self.on_message, prefetch_count=PREFETCH)]

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self.ready.set()
        log.info("bridge consuming", queue=BRIDGE_QUEUE.name)

    def run(self, *args, **kwargs):
        try:
            super().run(*args, **kwargs)
        except _Stopping:
            pass
        log.info("bridge stopped")

    @contextmanager
    def establish_connection(self):
        with self.create_connection() as conn:
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries, callback=self._stop_check)
            yield conn

    def _stop_check(self) -> None:
        if self.should_stop:
            raise _Stopping()

    def on_connection_error(self, exc, interval):
        log.warning("bus connection lost; reconnecting", error=str(exc), retry_in_seconds=interval)

    # one message -----------------------------------------------------------------
    def on_message(self, message) -> None:
        routing_key = (message.delivery_info or {}).get("routing_key")
        if routing_key in OUTBOUND:  # our own follow-ups pass on the same exchange
            message.ack()
            self.counts["skipped"] += 1
            return
        try:
            try:
                self.handle(message.body)
            except Exception as error:
                if is_connection_error(error, self.connection):
                    raise
                self._fail(message.body, error)
        except Exception as error:  # broker or bus down: keep the event
            if not is_connection_error(error, self.connection):
                # Even the rejection could not be built or sent for a reason other than
                # the connection: logged, and the event is not taken again.
                log.error("event dropped after an internal error", error_type=type(error).__name__,
                          routing_key=routing_key)
                message.ack()
                return
            self.counts["requeued"] += 1
            log.error("could not hand over event; requeued", error=str(error)[:500], routing_key=routing_key)
            time.sleep(REQUEUE_PAUSE_SECONDS)  # bounded back-off before the redelivery
            message.requeue()
            return
        message.ack()

    def _fail(self, body, error: Exception) -> None:
        """Answer an event whose handling failed for a reason other than the connection."""
        text = body if isinstance(body, str) else bytes(body[:PEEK_CEILING_BYTES]).decode("utf-8", "replace")
        event_type, event_id = peek_names(text[:PEEK_CEILING_BYTES])
        log.error("event could not be handled; rejected", event_type=event_type, event_id=event_id,
                  error_type=type(error).__name__, error=str(error)[:500])
        invalid = Invalid([{"field": "event", "message": f"could not be handled ({type(error).__name__}); "
                                                         "it was rejected so that the queue goes on"}],
                          event_type=event_type, event_id=event_id)
        self._reject(body, invalid)

    def handle(self, body: bytes | str) -> str:
        """Validate and hand over one body; returns "forwarded", "rejected" or "skipped"."""
        raw = None
        try:
            raw = decode(body, max_bytes=self.max_event_bytes)
            # etsyflow's own events are never inbound unless of an inbound type (poll ticks).
            if isinstance(raw, dict) and raw.get("source") == SOURCE and raw.get("type") not in INBOUND:
                self.counts["skipped"] += 1
                return "skipped"
            event, data = validate_event(raw)
        except Invalid as invalid:
            self._reject(body, invalid, raw)
            return "rejected"
        actor = self.actors.get(event.type)
        if actor is None:  # registered type without an actor: configuration bug
            self._reject(body, Invalid([{"field": "type", "message": f"no worker handles {event.type}"}],
                                       event_type=event.type, event_id=event.id))
            return "rejected"
        loaded = pack(data)
        actor.send_with_options(args=(event.to_dict(),), kwargs={"loaded": loaded} if loaded is not None else None)
        self.counts["forwarded"] += 1
        log.info("event forwarded", event_id=event.id, event_type=event.type, shop_id=event.shop_id)
        return "forwarded"

    def _reject(self, body, invalid: Invalid, raw=None) -> None:
        for answer in invalid_answers(invalid, raw, body):
            publish(answer)
        self.counts["rejected"] += 1
        log.warning("event rejected", event_id=invalid.event_id, event_type=invalid.event_type,
                    reason=str(invalid)[:2000])
