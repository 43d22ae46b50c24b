"""A message is acknowledged only once its outcome is stored.

Dramatiq's :class:`~dramatiq.middleware.Retries` enqueues the retry of a
failed message in ``after_process_message``. When the broker is away at that
moment the enqueue fails, Dramatiq logs "Unexpected failure in
after_process_message" and goes on to acknowledge the message once the broker
is back: the retry was never stored and the message is gone.

:class:`Retries` (replacing Dramatiq's on every etsyflow broker) decides like
Dramatiq's — same options, same backoff — but keeps a retry it could not
store and tries again in ``before_ack``. While it still cannot, it raises
:class:`OutcomeNotStored`, which Dramatiq's worker treats as a broker
connection error: it waits 5 s and tries the acknowledgement again. So the
message stays unacknowledged (in the broker, held by this worker) until its
retry is stored; if the worker dies meanwhile, the message goes back to its
queue with the dead worker's other messages.
"""

from __future__ import annotations

import threading

import dramatiq
from dramatiq.errors import BrokerConnectionError
from dramatiq.middleware import MiddlewareError

from ..config.logging import get_logger

log = get_logger("etsyflow.workers")


class OutcomeNotStored(MiddlewareError, BrokerConnectionError):
    """The outcome of a processed message (its retry, its dead-letter notice) is not stored yet:
    do not acknowledge it."""


def is_connection_error(error: BaseException) -> bool:
    """Whether ``error`` says Redis, the broker or the bus is unreachable (worth waiting for)."""
    import kombu.exceptions
    import redis

    return isinstance(error, (redis.ConnectionError, redis.TimeoutError, BrokerConnectionError,
                              kombu.exceptions.OperationalError, ConnectionError, TimeoutError))


class _Recorder:
    """The broker as Dramatiq's ``Retries`` sees it, with ``enqueue`` recorded instead of sent."""

    def __init__(self, broker):
        self._broker = broker
        self.enqueued: list[tuple[dramatiq.Message, int | None]] = []

    def enqueue(self, message, *, delay=None):
        self.enqueued.append((message, delay))
        return message

    def __getattr__(self, name):
        return getattr(self._broker, name)


class Retries(dramatiq.middleware.Retries):
    """Dramatiq's retries whose enqueue failure holds the acknowledgement back (see module docstring)."""

    def __init__(self, **options):
        super().__init__(**options)
        self._pending: dict[str, list[tuple[dramatiq.Message, int | None]]] = {}
        self._lock = threading.Lock()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        recorder = _Recorder(broker)
        super().after_process_message(recorder, message, result=result, exception=exception)
        if recorder.enqueued:
            with self._lock:
                self._pending[message.message_id] = recorder.enqueued
            self._store(broker, message)

    def before_ack(self, broker, message):
        if not self._store(broker, message):
            raise OutcomeNotStored(f"the retry of message {message.message_id} is not stored yet; "
                                   "it stays unacknowledged until the broker takes it")

    def before_nack(self, broker, message):
        with self._lock:
            self._pending.pop(message.message_id, None)

    def _store(self, broker, message) -> bool:
        """Enqueue what is pending for ``message``; True once nothing is left."""
        with self._lock:
            pending = self._pending.get(message.message_id)
        while pending:
            retry, delay = pending[0]
            try:
                broker.enqueue(retry, delay=delay)
            except Exception as error:
                log.warning("retry not stored; the message stays unacknowledged", message_id=message.message_id,
                            error=str(error))
                return False
            pending.pop(0)
        with self._lock:
            self._pending.pop(message.message_id, None)
        return True


def install(broker: dramatiq.Broker) -> None:
    """Put :class:`Retries` in place of Dramatiq's on ``broker`` (same position, same settings)."""
    for index, middleware in enumerate(broker.middleware):
        if type(middleware) is dramatiq.middleware.Retries:
            replacement = Retries(max_retries=middleware.max_retries, min_backoff=middleware.min_backoff,
                                  max_backoff=middleware.max_backoff, retry_when=middleware.retry_when)
            broker.middleware[index] = replacement
            return
