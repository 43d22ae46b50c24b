"""Dramatiq's Redis broker, with nothing stranded when the connection drops.

When a consumer thread of Dramatiq's worker loses its Redis connection it
drops the delayed messages it held in memory (retries waiting for their time)
and any messages it had fetched but not handed out; Redis still counts them as
held by this worker. A living worker keeps its heartbeat, so queue maintenance
never returns them: they would wait until the worker process restarts.

:class:`RedisBroker` notes which of those messages each consumer holds; when a
consumer is closed with some still held, they become *strays*, and the upkeep
thread (:mod:`.upkeep`) puts them back in their queue as soon as Redis
answers. It also reports Redis connection failures of every broker command as
Dramatiq's :class:`~dramatiq.errors.ConnectionClosed`, the error Dramatiq's
worker handles by retrying (a raw ``redis.ConnectionError`` from re-enqueueing
a due delayed message would stop the consumer thread for good).
"""

from __future__ import annotations

import threading

import redis
from dramatiq.brokers import redis as dramatiq_redis
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message


class Strays:
    """Messages held by this process in Redis that no consumer will deliver; thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[str, set[str]] = {}  # queue -> redis message ids of delayed messages held
        self._strays: dict[str, set[str]] = {}

    def hold(self, queue: str, redis_id: str) -> None:
        with self._lock:
            self._held.setdefault(queue, set()).add(redis_id)

    def release(self, queue: str, redis_ids) -> None:
        with self._lock:
            held = self._held.get(queue, set())
            held.difference_update(redis_ids)

    def strand(self, queue: str, redis_ids) -> None:
        with self._lock:
            ids = set(redis_ids)
            self._held.get(queue, set()).difference_update(ids)
            if ids:
                self._strays.setdefault(queue, set()).update(ids)

    def count(self) -> int:
        with self._lock:
            return sum(len(ids) for ids in self._strays.values())

    def return_all(self, broker) -> int:
        """Put every stray back in its queue (raises ``redis.RedisError`` while Redis is away)."""
        with self._lock:
            batches = {queue: sorted(ids) for queue, ids in self._strays.items() if ids}
        returned = 0
        for queue, ids in batches.items():
            broker.do_requeue(queue, *ids)
            with self._lock:
                self._strays.get(queue, set()).difference_update(ids)
            returned += len(ids)
        return returned


class _Consumer(dramatiq_redis._RedisConsumer):
    def __next__(self):
        message = super().__next__()
        if message is not None and "eta" in message.options:
            self.broker.strays.hold(self.queue_name, message.options["redis_message_id"])
        return message

    def ack(self, message):
        super().ack(message)
        self.broker.strays.release(self.queue_name, [message.options["redis_message_id"]])

    def nack(self, message):
        super().nack(message)
        self.broker.strays.release(self.queue_name, [message.options["redis_message_id"]])

    def requeue(self, messages):
        messages = list(messages)
        ids = [m.options["redis_message_id"] for m in messages]
        try:
            super().requeue(messages)
        except (redis.RedisError, ConnectionClosed):
            self.broker.strays.strand(self.queue_name, ids)
            raise
        self.broker.strays.release(self.queue_name, ids)

    def close(self):
        # What this consumer fetched and never handed out, and the delayed messages it
        # handed out that were neither acknowledged nor requeued: nobody will deliver them.
        cached = []
        for data in self.message_cache:
            if data is not None:
                try:
                    cached.append(Message.decode(data).options["redis_message_id"])
                except Exception:  # undecodable: Dramatiq could not deliver it either
                    continue
        self.message_cache = []
        strays = self.broker.strays
        with strays._lock:
            held = set(strays._held.get(self.queue_name, set()))
        strays.strand(self.queue_name, cached + sorted(held))
        super().close()


class RedisBroker(dramatiq_redis.RedisBroker):
    """Dramatiq's Redis broker whose consumers leave no stray behind (see module docstring)."""

    def __init__(self, **options):
        super().__init__(**options)
        self.strays = Strays()

    @property
    def consumer_class(self):
        return _Consumer

    def _dispatch(self, command):
        dispatch = super()._dispatch(command)

        def guarded(queue_name, *args):
            try:
                return dispatch(queue_name, *args)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                raise ConnectionClosed(error) from None

        return guarded
