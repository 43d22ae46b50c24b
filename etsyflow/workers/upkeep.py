"""Broker upkeep on a timer: heartbeats and the return of a dead worker's messages.

Dramatiq's Redis broker keeps, per worker process, the set of messages it
fetched and has not acknowledged (``dramatiq:__acks__.<worker>.<queue>``), and
a heartbeat per worker refreshed by every broker command. Messages of a worker
silent for longer than the heartbeat timeout go back to their queue during
*queue maintenance* — which Dramatiq runs on a random 0.1 % of commands, so
after a SIGKILL they may wait for a very long time.

:class:`Upkeep` is Dramatiq middleware that makes both deterministic: every
worker process runs a thread which, every :data:`BEAT_SECONDS`,

1. refreshes its own heartbeat (so a process busy with long messages on every
   thread never looks dead);
2. runs the maintenance of every declared queue and delay queue: whatever a
   dead worker held goes back to its queue at most ``HEARTBEAT_TIMEOUT +
   BEAT_SECONDS`` after the worker's last heartbeat;
3. returns to their queue the messages this process itself can no longer
   deliver (see :mod:`.redis_broker`: held by a consumer that lost its
   connection).

After the broker was unreachable, maintenance waits :data:`SETTLE_BEATS`
beats once it is back, so that every living worker refreshed its heartbeat
before anyone is judged dead by a heartbeat that aged during the outage.

RabbitMQ needs none of this: it returns a connection's unacknowledged
messages as soon as the connection is lost.
"""

from __future__ import annotations

import threading
import time

import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import Middleware

from ..config.logging import get_logger
from .options import HEARTBEAT_TIMEOUT

log = get_logger("etsyflow.workers")

#: Seconds between two upkeep runs of a worker process.
BEAT_SECONDS = HEARTBEAT_TIMEOUT / 3000
#: Beats to wait after the broker was unreachable before judging other workers dead.
SETTLE_BEATS = 2
#: The command name the upkeep passes to Dramatiq's dispatch script: none of its
#: commands, so the script only records the heartbeat and runs the maintenance.
UPKEEP_COMMAND = "etsyflow-upkeep"


def returns_within_ms(heartbeat_timeout_ms: int = HEARTBEAT_TIMEOUT) -> int:
    """The longest a dead worker's messages wait before they are back in their queue (milliseconds)."""
    return heartbeat_timeout_ms + int(BEAT_SECONDS * 1000)


def tend(broker: RedisBroker, *, maintain: bool = True) -> int:
    """One upkeep run on ``broker``: heartbeat, maintenance of every queue (when
    ``maintain``), return of this process's undeliverable messages. Returns how
    many of those it returned. Raises ``redis.RedisError`` when the broker is away."""
    queues = sorted(broker.get_declared_queues())
    queues += [dq_name(q) for q in queues]
    dispatch = broker.scripts["dispatch"]
    for queue in queues if maintain else queues[:1]:
        dispatch(keys=[broker.namespace], args=[
            UPKEEP_COMMAND, current_millis(), queue, broker.broker_id, broker.heartbeat_timeout,
            broker.dead_message_ttl, int(maintain), broker._max_unpack_size()])
    returned = 0
    strays = getattr(broker, "strays", None)
    if strays is not None:
        returned = strays.return_all(broker)
    return returned


class Upkeep(Middleware):
    """Run :func:`tend` every :data:`BEAT_SECONDS` in each worker (Redis brokers only)."""

    def __init__(self, *, interval: float = BEAT_SECONDS):
        self.interval = interval
        self._threads: dict[int, tuple[threading.Thread, threading.Event]] = {}

    def after_worker_boot(self, broker, worker):
        if not isinstance(broker, RedisBroker):
            return
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(broker, stop), name="etsyflow-upkeep", daemon=True)
        self._threads[id(worker)] = (thread, stop)
        thread.start()

    def before_worker_shutdown(self, broker, worker):
        thread, stop = self._threads.pop(id(worker), (None, None))
        if thread is not None:
            stop.set()
            thread.join(self.interval + 15)  # one run at most: each Redis call has a socket timeout

    def _run(self, broker: RedisBroker, stop: threading.Event) -> None:
        settle_until = 0.0  # monotonic time before which no maintenance runs
        failing = False
        while True:
            try:
                returned = tend(broker, maintain=time.monotonic() >= settle_until)
                if failing:
                    log.info("broker reachable again; upkeep resumes")
                    failing = False
                if returned:
                    log.warning("messages returned to their queue", count=returned)
            except (redis.RedisError, ConnectionClosed) as error:
                if not failing:
                    log.warning("broker upkeep failed; retrying", error=str(error))
                failing = True
                settle_until = time.monotonic() + SETTLE_BEATS * self.interval
            except Exception:  # never let the upkeep thread die
                log.exception("broker upkeep failed")
            if stop.wait(self.interval):
                return
