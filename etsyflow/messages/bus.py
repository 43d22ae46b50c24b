"""The event bus: kombu topic exchange ``etsyflow.events``, routing key = event type.

Connections come from ``EVENTS_URL`` (default ``BROKER_URL``, else kombu's
in-process ``memory://`` transport for the embedded defaults).
"""

from __future__ import annotations

from kombu import Connection, Exchange, Queue

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


# kombu's Redis transport keeps events a consumer took but had not acknowledged
# when its connection died (the Redis server crashed) and gives them back only
# after ``visibility_timeout``: one hour by default. The bridge acknowledges an
# event within milliseconds (once the broker has its message); 12 s, checked
# every second, brings such events back within 13 s of the crash, inside the
# 30 s recovery bound. An event a stalled bridge holds longer is delivered a
# second time: the actors skip what they already did, and follow-up ids
# repeat (subscribers drop them). The sweep's mutex lives 5 s, not 5 minutes:
# held when Redis died, it would survive in the append-only file and stop
# every sweep until it expires.
REDIS_UNACKED_OPTIONS = {"visibility_timeout": 12, "unacked_restore_interval": 1, "unacked_restore_throttle": 1,
                         "unacked_mutex_expire": 5}

# kombu's in-memory transport polls its queues; its default pause of 1 s
# between polls would add a second to every hop of the embedded pipeline.
MEMORY_POLLING_INTERVAL_SECONDS = 0.005


def connection(url: str | None = None) -> Connection:
    """A new kombu connection to the bus. Connect timeout: 5 seconds."""
    url = url or events_url()
    options = {"socket_timeout": 10}
    if url.startswith("memory://"):
        options["polling_interval"] = MEMORY_POLLING_INTERVAL_SECONDS
    if url.startswith(("redis://", "rediss://")):
        options.update(REDIS_UNACKED_OPTIONS)
    return Connection(url, connect_timeout=5, transport_options=options)


def tail_queue(types: list[str] | None = None, name: str | None = None) -> Queue:
    """An exclusive, auto-deleted queue bound to ``types`` (all when None)."""
    keys = types or ["#"]
    from kombu import binding

    return Queue(name or "", exchange=EXCHANGE, bindings=[binding(EXCHANGE, routing_key=k) for k in keys],
                 exclusive=True, auto_delete=True, durable=False)
