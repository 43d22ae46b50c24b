"""The event bus: kombu topic exchange ``etsyflow.events``, routing key = event type.

Connections come from ``EVENTS_URL`` (default ``BROKER_URL``, else kombu's
in-process ``memory://`` transport for the embedded defaults).
"""

from __future__ import annotations

from kombu import Connection, Exchange, Queue
from kombu.transport import redis as kombu_redis

from ..config import get_settings

EXCHANGE_NAME = "etsyflow.events"
EXCHANGE = Exchange(EXCHANGE_NAME, type="topic", durable=True)
# Durable queue the bridge consumes: every type ("#"), so unknown types get
# an answer too; the bridge skips etsyflow's own follow-ups.
BRIDGE_QUEUE = Queue("etsyflow.bridge", EXCHANGE, routing_key="#", durable=True)

# Bounded reconnection policy for publishing (seconds).
RETRY_POLICY = {"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2.0}


def events_url() -> str:
    url = get_settings().effective_events_url
    if url.startswith(("amqp://", "amqps://")):
        return "py" + url  # kombu's pyamqp transport for AMQP URLs
    return url


# kombu's in-memory transport polls its queues; its default pause of 1 s
# between polls would add a second to every hop of the embedded pipeline.
MEMORY_POLLING_INTERVAL_SECONDS = 0.005


class _RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, reusing one client object for its commands.

    kombu builds a new ``redis.Redis`` around the channel's connection pool for
    every command (publish, acknowledgement); with redis-py 5 and later that
    costs about 0.3 ms of CPU each (it copies some 170 response callbacks), a
    fifth of the bridge's time per event. The client holds no state besides
    its pool and is thread-safe, so one per channel does the same work.
    Blocking reads (``asynchronous=True``) keep kombu's own clients.
    """

    _sync_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        if self._sync_client is None:
            self._sync_client = super()._create_client()
        return self._sync_client


class RedisTransport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`_RedisChannel`."""

    Channel = _RedisChannel


def connection(url: str | None = None) -> Connection:
    """A new kombu connection to the bus. Connect timeout: 5 seconds."""
    url = url or events_url()
    options = {"socket_timeout": 10}
    if url.startswith("memory://"):
        options["polling_interval"] = MEMORY_POLLING_INTERVAL_SECONDS
    transport = RedisTransport if url.startswith("redis://") else None  # rediss:// keeps kombu's TLS set-up
    return Connection(url, connect_timeout=5, transport_options=options, transport=transport)


def tail_queue(types: list[str] | None = None, name: str | None = None) -> Queue:
    """An exclusive, auto-deleted queue bound to ``types`` (all when None)."""
    keys = types or ["#"]
    from kombu import binding

    return Queue(name or "", exchange=EXCHANGE, bindings=[binding(EXCHANGE, routing_key=k) for k in keys],
                 exclusive=True, auto_delete=True, durable=False)
