"""Dead-letter notice: when Dramatiq gives up on a message, say why and tell subscribers.

:class:`DeadLetters` is Dramatiq middleware (added to every broker by
:func:`etsyflow.workers.broker.add_middleware`):

* after each failed attempt it keeps the error text in the message's options
  (``etsyflow_last_error``), so a retried message carries its previous error;
* before the broker moves the message to the dead-letter queue
  (``before_nack``) it records the final error (see :mod:`.records`) and
  publishes the actor's rejection follow-up — ``ListingRejected``,
  ``StockRejected``, ``ShipmentRejected`` …, or ``EventRejected`` for actors
  without one — with the reason "gave up after N attempts: <error>; kept in
  the dead-letter queue for replay (etsyflow dlq)".

The notice's id is derived from the cause, the Dramatiq message id and how
often the message was replayed: a worker that dies between publishing it and
the broker's bookkeeping publishes the same id again, while a message that
fails again after a replay gets a new notice.

The notice is part of the message's outcome: while the bus or the state store
cannot take it (connection lost), ``before_nack`` raises
:class:`~etsyflow.workers.outcomes.OutcomeNotStored`, so Dramatiq keeps the
message unacknowledged and tries again every 5 s; the subscriber always hears.
"""

from __future__ import annotations

from dramatiq.common import q_name
from dramatiq.middleware import Middleware

from ..config.logging import get_logger
from ..messages import publish
from ..schemas import Invalid, validate_event
from ..schemas.rejections import refusal
from ..state import get_redis
from . import metrics, records
from .options import DEAD_MESSAGE_TTL, event_type_of
from .outcomes import OutcomeNotStored, is_connection_error

log = get_logger("etsyflow.workers")

LAST_ERROR = "etsyflow_last_error"
REPLAYS = "etsyflow_replays"


def notice_reason(attempts: int, last_error: str | None) -> str:
    return (f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {last_error or 'unknown error'}; "
            "kept in the dead-letter queue for replay (etsyflow dlq)")


class DeadLetters(Middleware):
    """Record the last error of dead-lettered messages and publish a rejection notice."""

    def __init__(self, *, ttl_ms: int | None = None):
        self.ttl_ms = ttl_ms or DEAD_MESSAGE_TTL
        # Ids of messages whose attempt in this process just raised (a set is thread-safe enough:
        # each id is added and removed by the one thread running that message).
        self._failed: set[str] = set()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is not None:
            message.options[LAST_ERROR] = records.describe(exception)
            self._failed.add(message.message_id)
        else:
            self._failed.discard(message.message_id)

    def after_ack(self, broker, message):
        self._failed.discard(message.message_id)

    def before_nack(self, broker, message):
        try:
            self._dead_lettered(broker, message)
        except Exception as error:
            if is_connection_error(error):  # the bus or Redis is away: not nacked until the notice is out
                log.warning("dead-letter notice not stored yet; retrying", message_id=message.message_id,
                            error=str(error))
                raise OutcomeNotStored(f"dead-letter notice of {message.message_id}: {error}") from error
            # a bug here must not keep the message out of the dead-letter queue
            log.exception("dead-letter notice failed", message_id=message.message_id)

    def _dead_lettered(self, broker, message) -> None:
        ran_and_failed = message.message_id in self._failed
        retries = int(message.options.get("retries", 0) or 0)
        queue = q_name(message.queue_name)
        last_error = message.options.get(LAST_ERROR) if ran_and_failed else _skip_reason(broker, message)
        records.save(get_redis(), message.message_id, last_error=last_error, retries=retries,
                     actor=message.actor_name, queue=queue, ttl_ms=self.ttl_ms)
        metrics.dead_lettered(message.actor_name, queue)
        log.warning("message dead-lettered", message_id=message.message_id, actor=message.actor_name,
                    retries=retries, last_error=last_error)
        if ran_and_failed:  # retries exhausted (not dropped unrun): tell subscribers
            publish_notice(message, notice_reason(max(retries, 1), last_error))
        self._failed.discard(message.message_id)


def _skip_reason(broker, message) -> str:
    try:
        actor = broker.get_actor(message.actor_name)
    except Exception:
        return f"no actor named {message.actor_name!r} in this worker"
    reason = "dropped before running"
    if "max_age" in message.options or "max_age" in actor.options:
        reason += ": older than its max_age"
    previous = message.options.get(LAST_ERROR)
    return f"{reason} (previous error: {previous})" if previous else reason


def publish_notice(message, reason: str):
    """Publish the rejection follow-up of the event carried by ``message``; returns it (or None)."""
    event_type = event_type_of(message.actor_name)
    if event_type is None or not message.args or not isinstance(message.args[0], dict):
        return None
    try:
        event, data = validate_event(message.args[0])
    except Invalid:
        return None  # an invalid event was answered with EventRejected when it arrived
    key = f"dead-letter:{message.message_id}:{int(message.options.get(REPLAYS, 0) or 0)}"
    return publish(refusal(event, data, reason, key=key))
