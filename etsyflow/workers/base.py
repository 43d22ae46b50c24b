"""What every actor shares: validate, call, publish — and one answer per failure.

A feature module registers a handler with :func:`handles`. :func:`setup`
declares one Dramatiq actor per registered handler on a broker. Each actor:

1. validates the envelope and data (an event sent straight to Dramatiq, not
   through the bridge, is checked too) — invalid → ``EventRejected``;
2. skips an event it already completed (at-least-once delivery);
3. runs the handler, which publishes follow-ups through ``ctx.emit`` as it goes;
4. answers each failure class in one place:

   ================================  ===========================================
   failure                           action
   ================================  ===========================================
   :class:`Rejected` / Etsy          publish the handler's rejection event with
   ``PermanentError``                the reason; done, no retry
   Etsy ``RateLimited`` (daily)      re-enqueue delayed until the quota is back;
                                     no retry is spent
   Etsy ``RateLimited`` (per second) retry after ``retry_after``
   Etsy ``AuthFailed``               park the message for the shop; replayed by
                                     :func:`replay_parked` when it reconnects
                                     (bounded: see :func:`park`)
   shop never connected              the handler's rejection, "shop N is not
                                     connected" (``ShopNotConnected``)
   anything else                     raise: Dramatiq retries with backoff, then
                                     dead-letters (see ``options.py``)
   ================================  ===========================================
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Callable

import dramatiq

from ..config.logging import bind_event, get_logger, unbind_event
from ..messages import CloudEvent, EventType, publish
from ..schemas import Invalid, validate_event
from ..state import get_redis
from .options import ACTOR_OPTIONS, actor_name

log = get_logger("etsyflow.workers")

# Completed events are remembered this long (seconds) to skip redeliveries.
DONE_TTL_SECONDS = 7 * 24 * 3600
# A daily-quota park never waits longer than this (seconds) before re-checking.
MAX_PARK_SECONDS = 6 * 3600


class Rejected(Exception):
    """The handler refuses the event for good; ``reason`` is for a merchandiser."""

    def __init__(self, reason: str, **details):
        super().__init__(reason)
        self.reason = reason
        self.details = details


RejectBuilder = Callable[[CloudEvent, dict, str], tuple[str, dict]]


@dataclass
class Handler:
    event_type: str
    func: Callable[["Context"], None]
    reject: RejectBuilder | None
    idempotent_skip: bool = True


@dataclass
class Context:
    """What a handler gets: the event, its loaded data, and a way to publish."""

    event: CloudEvent
    data: dict
    message: dramatiq.Message | None = None
    published: list[CloudEvent] = field(default_factory=list)

    @property
    def shop_id(self):
        return self.data.get("shop_id")

    @property
    def log(self):
        return log

    def emit(self, event_type: str, data: dict, *, key: str = "") -> CloudEvent:
        """Publish a follow-up of this event now (id derived from the cause and ``key``)."""
        follow_up = self.event.follow_up(event_type, data, key=key)
        publish(follow_up)
        self.published.append(follow_up)
        return follow_up


_handlers: dict[str, Handler] = {}
_actors: dict[str, dramatiq.Actor] = {}


def handles(event_type: str, *, reject: RejectBuilder | None = None, idempotent_skip: bool = True):
    """Register ``func(ctx)`` as the handler of ``event_type``.

    ``reject(event, data, reason)`` returns the ``(type, data)`` of the
    rejection follow-up (e.g. ``ListingRejected``); without it rejections are
    published as ``EventRejected``. ``idempotent_skip=False`` runs the handler
    even for an event id seen before (poll ticks: each run is fresh).
    """

    def decorator(func):
        _handlers[event_type] = Handler(event_type, func, reject, idempotent_skip)
        return func

    return decorator


def handler_for(event_type: str | None) -> Handler | None:
    """The registered handler of ``event_type`` (None when there is none)."""
    return _handlers.get(event_type or "")


def event_rejected(event: CloudEvent, errors: list[dict]) -> CloudEvent:
    """``EventRejected`` for a valid envelope whose content cannot be processed."""
    return event.follow_up(EventType.EVENT_REJECTED, {"type": event.type, "id": event.id, "errors": errors})


def invalid_answers(invalid: Invalid, raw, body: bytes | str) -> list[CloudEvent]:
    """What an invalid event is answered with: ``EventRejected`` carrying every
    error, then the type's own rejection where the event names its subject.

    The ids derive from the body, so the same bad event delivered again gets
    the same answers (subscribers drop repeated ids). Used by the bridge and by
    actors (an event sent straight to Dramatiq is checked too).
    """
    digest = hashlib.sha256(body if isinstance(body, bytes) else body.encode()).hexdigest()
    cause = CloudEvent.new("invalid", {}, id=invalid.event_id or f"sha256:{digest}")
    rejection = cause.follow_up(EventType.EVENT_REJECTED, {
        "type": invalid.event_type, "id": invalid.event_id, "errors": invalid.errors}, key=digest)
    if invalid.event_id is None:  # no cause to name
        rejection = CloudEvent(type=rejection.type, data=rejection.data, id=rejection.id)
    typed = typed_rejection(raw, invalid)
    return [rejection] if typed is None else [rejection, typed]


def typed_rejection(raw, invalid: Invalid) -> CloudEvent | None:
    """The type's own rejection (e.g. ``ListingRejected``) for an invalid event, when
    its type is known and it names what it is about, so an upstream that listens
    only for its own rejection type hears of bad input too. None otherwise."""
    handler = handler_for(invalid.event_type)
    data = raw.get("data") if isinstance(raw, dict) else None
    if handler is None or handler.reject is None or not isinstance(data, dict):
        return None
    reason = "invalid event: " + "; ".join(f"{e['field']}: {e['message']}" for e in invalid.errors)
    cause = CloudEvent(type=handler.event_type, data=data, id=invalid.event_id or "invalid")
    rtype, rdata = handler.reject(cause, data, reason)
    if all(value is None for key, value in rdata.items() if key != "reason"):
        return None
    return cause.follow_up(rtype, rdata, key="invalid")


def _done_key(event_type: str, event_id: str) -> str:
    return f"etsyflow:done:{event_type}:{event_id}"


def _etsy_errors():
    # Imported late: the Etsy client imports the state and message layers.
    from ..etsy import errors

    return errors


def process(event_type: str, envelope: dict) -> None:
    """Run the handler of ``event_type`` for one envelope (the actor body)."""
    handler = _handlers[event_type]
    try:
        event, data = validate_event(envelope)
    except Invalid as invalid:
        if invalid.event_type is None:
            invalid.event_type = event_type
        for answer in invalid_answers(invalid, envelope, json.dumps(envelope, sort_keys=True, default=str)):
            publish(answer)
        log.warning("event rejected", reason=str(invalid), event_type=invalid.event_type, event_id=invalid.event_id)
        return
    if event.type != event_type:
        publish(event_rejected(event, [{"field": "type", "message": f"sent to the {event_type} actor"}]))
        return

    tokens = bind_event(event_id=event.id, event_type=event.type, shop_id=data.get("shop_id"),
                        actor=actor_name(event_type))
    try:
        redis = get_redis()
        done_key = _done_key(event_type, event.id)
        if handler.idempotent_skip and redis.exists(done_key):
            log.info("already done; skipped")
            return
        ctx = Context(event, data, dramatiq.middleware.CurrentMessage.get_current_message())
        outcome = DONE
        try:
            _require_connected(data.get("shop_id"), redis)
            handler.func(ctx)
        except Rejected as rejected:
            _reject(handler, event, data, rejected.reason)
        except Exception as error:  # the failure table: see the module docstring
            outcome = _answer(handler, event, data, envelope, error)
            if outcome is None:
                raise
        if handler.idempotent_skip and outcome == DONE:
            redis.set(done_key, b"1", ex=DONE_TTL_SECONDS)
    finally:
        unbind_event(tokens)


def _require_connected(shop_id, redis) -> None:
    """A shop that was never connected has nothing to wait for: its events are rejected
    (the check comes first, so the reason names the shop, not a later missing piece)."""
    if shop_id is None:
        return
    from ..shops import ShopStore

    if ShopStore(redis).get(shop_id) is None:
        raise _etsy_errors().ShopNotConnected(shop_id)


def _reject(handler: Handler, event: CloudEvent, data: dict, reason: str) -> None:
    if handler.reject is not None:
        rtype, rdata = handler.reject(event, data, reason)
        publish(event.follow_up(rtype, rdata))
    else:
        publish(event_rejected(event, [{"field": "event", "message": reason}]))
    log.warning("rejected", reason=reason)


DONE, PARKED = "done", "parked"


def _answer(handler: Handler, event: CloudEvent, data: dict, envelope: dict, error: Exception) -> str | None:
    """Handle an Etsy failure per the table: DONE (answered for good), PARKED
    (will run again later, so not marked done), or None ("let Dramatiq retry")."""
    errors = _etsy_errors()
    if isinstance(error, errors.PermanentError):
        _reject(handler, event, data, error.reason)
        return DONE
    if isinstance(error, errors.RateLimited):
        if error.daily:
            delay = min(max(float(error.retry_after or 60), 1.0), MAX_PARK_SECONDS)
            _actors[handler.event_type].send_with_options(args=(envelope,), delay=int(delay * 1000))
            log.warning("daily Etsy quota used up; parked", retry_in_seconds=delay)
            return PARKED
        raise dramatiq.Retry("Etsy per-second limit", delay=int(max(float(error.retry_after or 1), 0.1) * 1000))
    if isinstance(error, errors.AuthFailed):
        if not park(data.get("shop_id"), handler.event_type, envelope):
            return DONE  # over the parking bound: answered with its rejection
        log.warning("shop needs reconnecting; parked", reason=str(error))
        return PARKED
    return None


# -- parking for shops that must reconnect -----------------------------------------

def _parked_key(shop_id) -> str:
    return f"etsyflow:parked:{shop_id}"


def park(shop_id, event_type: str, envelope: dict) -> bool:
    """Keep a message for a shop whose tokens are revoked, until it reconnects.

    Bounded (settings ``PARKED_MAX_PER_SHOP``, ``PARKED_MAX_AGE_SECONDS``): messages parked
    longer than the age bound are answered with their rejection first; when the shop already
    has the maximum waiting, this one is answered with its rejection instead of being kept.
    Returns True when it was parked. Nothing is dropped silently.
    """
    from ..config import get_settings

    settings = get_settings()
    redis = get_redis()
    expire_parked(shop_id)
    waiting = int(redis.llen(_parked_key(shop_id)))
    if waiting >= settings.parked_max_per_shop:
        _answer_parked(shop_id, event_type, envelope,
                       f"shop {shop_id} must be reconnected and already has {waiting} events waiting "
                       f"(PARKED_MAX_PER_SHOP={settings.parked_max_per_shop}); send it again once it is")
        return False
    redis.rpush(_parked_key(shop_id), json.dumps({"event_type": event_type, "envelope": envelope,
                                                   "parked_at": time.time()}))
    return True


def parked_count(shop_id) -> int:
    return int(get_redis().llen(_parked_key(shop_id)))


def oldest_parked_at(shop_id) -> float | None:
    """When the oldest message parked for ``shop_id`` was parked (epoch seconds), or None."""
    raw = get_redis().lindex(_parked_key(shop_id), 0)
    return None if raw is None else float(json.loads(raw).get("parked_at") or 0) or None


def expire_parked(shop_id, *, now: float | None = None) -> int:
    """Answer with their rejection the messages parked longer than ``PARKED_MAX_AGE_SECONDS``; returns how many."""
    from ..config import get_settings

    max_age = get_settings().parked_max_age_seconds
    now = time.time() if now is None else now
    redis = get_redis()
    expired = 0
    while True:
        raw = redis.lindex(_parked_key(shop_id), 0)
        if raw is None:
            return expired
        item = json.loads(raw)
        parked_at = float(item.get("parked_at") or 0)
        if now - parked_at <= max_age:
            return expired
        _answer_parked(shop_id, item["event_type"], item["envelope"],
                       f"shop {shop_id} was not reconnected within {max_age / 86400:g} days "
                       f"(PARKED_MAX_AGE_SECONDS); send the event again once it is")
        redis.lrem(_parked_key(shop_id), 1, raw)  # after the answer: a crash in between answers twice, same id
        expired += 1


def _answer_parked(shop_id, event_type: str, envelope: dict, reason: str) -> None:
    handler = handler_for(event_type)
    try:
        event, data = validate_event(envelope)
    except Invalid:  # it was valid when parked; nothing better to say than the generic answer
        return
    key = f"parked:{hashlib.sha256(reason.encode()).hexdigest()[:16]}"
    if handler is not None and handler.reject is not None:
        rtype, rdata = handler.reject(event, data, reason)
        publish(event.follow_up(rtype, rdata, key=key))
    else:
        publish(event.follow_up(EventType.EVENT_REJECTED, {
            "type": event.type, "id": event.id, "errors": [{"field": "shop_id", "message": reason}]}, key=key))
    log.warning("parked event answered with its rejection", parked_shop_id=shop_id, reason=reason)


def replay_parked(shop_id) -> int:
    """Re-enqueue every message parked for ``shop_id`` (those past the age bound are
    answered with their rejection instead); returns how many were re-enqueued.

    Works in any process: one that has not declared the actors (the
    ``etsyflow shop complete`` command) declares them on the configured broker.
    """
    redis = get_redis()
    if not redis.exists(_parked_key(shop_id)):
        return 0
    expire_parked(shop_id)
    if not _actors:
        from ..config.broker import build_broker

        setup(build_broker())
    count = 0
    while True:
        raw = redis.lpop(_parked_key(shop_id))
        if raw is None:
            return count
        item = json.loads(raw)
        try:
            _actors[item["event_type"]].send(item["envelope"])
        except Exception:
            redis.lpush(_parked_key(shop_id), raw)  # put it back: nothing lost
            raise
        count += 1
        log.info("parked message replayed", parked_shop_id=shop_id, parked_type=item["event_type"])


def _replay_on_reconnect(shop_id) -> None:
    replay_parked(shop_id)


def _register_reconnect_hook() -> None:
    from ..shops import on_reconnect

    if _replay_on_reconnect not in on_reconnect:
        on_reconnect.append(_replay_on_reconnect)


_register_reconnect_hook()


# -- declaring the actors on a broker ------------------------------------------------

def setup(broker: dramatiq.Broker) -> dict[str, dramatiq.Actor]:
    """Declare one actor per registered handler on ``broker``; returns them by event type."""
    from ..config.broker import add_middleware
    from . import modules  # noqa: F401  (imports every handler module)

    add_middleware(broker)
    dramatiq.set_broker(broker)
    _actors.clear()
    for event_type, handler in _handlers.items():
        def body(envelope: dict, _type=event_type) -> None:
            process(_type, envelope)

        body.__name__ = actor_name(event_type)
        _actors[event_type] = dramatiq.actor(body, broker=broker, actor_name=actor_name(event_type),
                                             **ACTOR_OPTIONS[event_type])
    return dict(_actors)


def actors() -> dict[str, dramatiq.Actor]:
    """The actors declared by the last :func:`setup`."""
    return dict(_actors)
