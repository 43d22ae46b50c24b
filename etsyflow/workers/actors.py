"""One Dramatiq actor per registered handler, and what each does with a message.

Each actor:

1. takes the data the bridge validated (sent with the envelope as ``loaded``,
   see :mod:`etsyflow.schemas.loaded`), or validates the envelope and data
   itself when the message did not come through the bridge (a parked message
   replayed, a direct send) — invalid → ``EventRejected`` (and the type's own
   rejection where the event names its subject);
2. skips an event it already completed (at-least-once delivery), unless the
   contract says repeats run (``skip_repeats=False``);
3. runs the handler, which publishes follow-ups through ``ctx.emit`` as it goes;
4. answers a failure per the table in :mod:`.failures`.
"""

from __future__ import annotations

import json

import dramatiq

from ..config.logging import bind_event, get_logger, unbind_event
from ..messages import CloudEvent, publish
from ..schemas import Invalid, validate_event
from ..schemas.loaded import unpack
from ..schemas.rejections import event_rejected, invalid_answers
from ..etsy.errors import ShopNotConnected
from ..shops import ShopStore, on_reconnect
from ..state import get_redis
from . import failures, modules, parking  # noqa: F401  (modules: imports every handler module)
from .broker import add_middleware, build_broker
from .options import ACTOR_OPTIONS, actor_name
from .registry import Context, handler_for, handlers

log = get_logger("etsyflow.workers")

# Completed events are remembered this long (seconds) to skip redeliveries.
DONE_TTL_SECONDS = 7 * 24 * 3600

_actors: dict[str, dramatiq.Actor] = {}


def _done_key(event_type: str, event_id: str) -> str:
    return f"etsyflow:done:{event_type}:{event_id}"


def _trusted(event_type: str, envelope: dict, loaded) -> tuple[CloudEvent, dict] | None:
    """The event and data the bridge validated, or None when the message does not carry them."""
    data = unpack(loaded) if loaded is not None else None
    if data is None or not isinstance(envelope, dict) or envelope.get("type") != event_type:
        return None
    try:
        return CloudEvent.from_dict(envelope), data
    except (KeyError, TypeError):
        return None


def process(event_type: str, envelope: dict, loaded: dict | None = None) -> None:
    """Run the handler of ``event_type`` for one envelope (the actor body).

    ``loaded``: the data as the bridge validated it (:func:`etsyflow.schemas.loaded.pack`);
    without it the event is validated here.
    """
    handler = handler_for(event_type)
    try:
        event, data = _trusted(event_type, envelope, loaded) or validate_event(envelope)
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

    skip_repeats = handler.entry.skip_repeats
    tokens = bind_event(event_id=event.id, event_type=event.type, shop_id=data.get("shop_id"),
                        actor=actor_name(event_type))
    try:
        redis = get_redis()
        done_key = _done_key(event_type, event.id)
        if skip_repeats and redis.exists(done_key):
            log.info("already done; skipped")
            return
        ctx = Context(event, data, dramatiq.middleware.CurrentMessage.get_current_message())
        outcome = failures.DONE
        try:
            _require_connected(data.get("shop_id"), redis)
            handler.func(ctx)
        except Exception as error:  # the failure table: see failures.py
            outcome = failures.answer(event, data, envelope, error, _actors[event_type])
            if outcome is None:
                raise
        if skip_repeats and outcome == failures.DONE:
            redis.set(done_key, b"1", ex=DONE_TTL_SECONDS)
    finally:
        unbind_event(tokens)


def _require_connected(shop_id, redis) -> None:
    """A shop that was never connected has nothing to wait for: its events are rejected
    (checked first, so the reason names the shop, not a later missing piece)."""
    if shop_id is not None and ShopStore(redis).get(shop_id) is None:
        raise ShopNotConnected(shop_id)


def setup(broker: dramatiq.Broker) -> dict[str, dramatiq.Actor]:
    """Declare one actor per registered handler on ``broker``; returns them by event type.

    Also makes a shop's reconnection replay the work parked for it (see
    :func:`replay_on_reconnect`).
    """
    add_middleware(broker)
    dramatiq.set_broker(broker)
    _actors.clear()
    for event_type in handlers():
        def body(envelope: dict, loaded: dict | None = None, _type=event_type) -> None:
            process(_type, envelope, loaded)

        body.__name__ = actor_name(event_type)
        _actors[event_type] = dramatiq.actor(body, broker=broker, actor_name=actor_name(event_type),
                                             **ACTOR_OPTIONS[event_type])
    replay_on_reconnect()
    return dict(_actors)


def actors() -> dict[str, dramatiq.Actor]:
    """The actors declared by the last :func:`setup`."""
    return dict(_actors)


def replay_parked(shop_id) -> int:
    """Re-enqueue every message parked for ``shop_id``; returns how many.

    Works in any process: one that has not declared the actors (the
    ``etsyflow shop complete`` command) declares them on the configured broker.
    """
    if not parking.has_parked(shop_id):
        return 0
    if not _actors:
        setup(build_broker())

    def send(event_type: str, envelope: dict) -> None:
        _actors[event_type].send(envelope)
        log.info("parked message replayed", parked_shop_id=shop_id, parked_type=event_type)

    return parking.take_parked(shop_id, send)


def _replay(shop_id) -> None:
    replay_parked(shop_id)


def replay_on_reconnect() -> None:
    """Make every (re)connection of a shop in this process replay its parked work
    (a hook in :data:`etsyflow.shops.on_reconnect`; idempotent). Entry points
    that connect shops (the CLI, the admin console) call it at start."""
    if _replay not in on_reconnect:
        on_reconnect.append(_replay)
