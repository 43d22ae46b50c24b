"""Counts of the Dramatiq work queues, read straight from the broker.

Redis broker (see ``dramatiq/brokers/redis/dispatch.lua``), namespace ``dramatiq``:

    dramatiq:<q>              LIST  ids of messages waiting          → ``ready``
    dramatiq:<q>.msgs         HASH  id → message (waiting + fetched)
    dramatiq:<q>.DQ.msgs      HASH  retries/delays not yet due        → ``delayed``
    dramatiq:<q>.XQ           ZSET  dead-lettered ids by time         → ``dead``
    dramatiq:__acks__.<worker>.<q>  SET  fetched by a worker, not acked → ``in_flight``
    dramatiq:__heartbeats__   ZSET  worker id → last command (epoch ms)

A worker whose heartbeat is older than the heartbeat timeout is dead: what it
held (on the queue and its delay queue) is counted as ``orphaned`` instead of
``in_flight``, and ``orphans_return_at`` (epoch seconds) is when the last of it
is back in its queue at the latest: the upkeep of any living worker
(:mod:`etsyflow.workers.upkeep`) returns it one beat after the timeout.

RabbitMQ: a passive ``queue.declare`` gives each queue's ready count; AMQP
does not say how many are unacknowledged, so ``in_flight`` is ``None`` there
(RabbitMQ's management UI shows it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..config import get_settings
from ..messages.contract import QUEUES
from ..state.connection import make_client
from .options import HEARTBEAT_TIMEOUT
from .upkeep import BEAT_SECONDS

NAMESPACE = "dramatiq"


@dataclass(frozen=True)
class QueueCounts:
    queue: str
    ready: int
    in_flight: int | None
    delayed: int
    dead: int
    orphaned: int = 0
    orphans_return_at: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def is_amqp(url: str | None) -> bool:
    return bool(url) and url.startswith(("amqp://", "amqps://"))


def _ms(redis) -> int:
    seconds, micros = redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


def redis_queue_counts(client, queues: list[str], *, heartbeat_timeout_ms: int,
                       namespace: str = NAMESPACE, beat_ms: int = 0) -> list[QueueCounts]:
    """Counts of ``queues`` on a Redis broker (``client``: a redis-py client on the broker).

    ``beat_ms``: the upkeep interval, added to the heartbeat timeout to say when
    a dead worker's messages are back at the latest."""
    now = _ms(client)
    workers = [(w.decode() if isinstance(w, bytes) else w, float(score))
               for w, score in client.zrange(f"{namespace}:__heartbeats__", 0, -1, withscores=True)]
    pipe = client.pipeline(transaction=False)
    for q in queues:
        pipe.llen(f"{namespace}:{q}")
        pipe.hlen(f"{namespace}:{q}.DQ.msgs")
        pipe.zcard(f"{namespace}:{q}.XQ")
        for worker, _ in workers:
            pipe.scard(f"{namespace}:__acks__.{worker}.{q}")
            pipe.scard(f"{namespace}:__acks__.{worker}.{q}.DQ")
    values = iter(pipe.execute())
    out = []
    for q in queues:
        ready, delayed, dead = next(values), next(values), next(values)
        in_flight = orphaned = 0
        return_at = None
        for _, seen in workers:
            held = next(values) + next(values)
            if now - seen > heartbeat_timeout_ms:
                orphaned += held
                if held:
                    back = max(seen + heartbeat_timeout_ms + beat_ms, now) / 1000
                    return_at = back if return_at is None else max(return_at, back)
            else:
                in_flight += held
        out.append(QueueCounts(q, int(ready), int(in_flight), int(delayed), int(dead), int(orphaned), return_at))
    return out


def amqp_queue_counts(url: str, queues: list[str]) -> list[QueueCounts]:
    """Ready counts of ``queues`` (and their .DQ/.XQ) by passive declare on RabbitMQ."""
    import pika  # only a RabbitMQ deployment needs pika at run time

    params = pika.URLParameters(url)
    params.socket_timeout = 5
    params.blocked_connection_timeout = 5
    connection = pika.BlockingConnection(params)
    try:
        def count(name: str) -> int:
            channel = connection.channel()
            try:
                return int(channel.queue_declare(name, passive=True).method.message_count)
            except pika.exceptions.ChannelClosedByBroker:  # not declared yet: nothing in it
                return 0
            finally:
                if channel.is_open:
                    channel.close()

        return [QueueCounts(q, count(q), None, count(f"{q}.DQ"), count(f"{q}.XQ")) for q in queues]
    finally:
        connection.close()


def queue_counts(settings=None, queues: list[str] | None = None) -> list[QueueCounts]:
    """Counts of etsyflow's queues on the configured broker."""
    settings = settings or get_settings()
    queues = list(queues or QUEUES)
    url = settings.effective_broker_url
    if is_amqp(url):
        return amqp_queue_counts(url, queues)
    return redis_queue_counts(broker_redis(settings), queues, heartbeat_timeout_ms=HEARTBEAT_TIMEOUT,
                              beat_ms=int(BEAT_SECONDS * 1000))


def broker_redis(settings=None):
    """A redis-py client on the Dramatiq broker (``BROKER_URL``, else ``REDIS_URL``, else embedded)."""
    settings = settings or get_settings()
    url = settings.effective_broker_url
    if is_amqp(url):
        raise ValueError("the broker is RabbitMQ, not Redis")
    return make_client(url)
