"""The event bus: kombu topic exchange ``etsyflow.events``, routing key = event type.

Connections come from ``EVENTS_URL`` (default ``BROKER_URL``, else kombu's
in-process ``memory://`` transport for the embedded defaults).

TLS verifies by default: ``rediss://`` and ``amqps://`` check the server's
certificate and name against the system's CAs. The URL's own ``ssl_*`` options
are honoured (``ssl_ca_certs``, ``ssl_certfile``, ``ssl_keyfile``,
``ssl_cert_reqs``, ``ssl_check_hostname``), the same names redis-py reads for
``REDIS_URL``. kombu alone would connect to ``rediss://`` without checking the
certificate, and knows no ``amqps`` transport.
"""

from __future__ import annotations

import ssl
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


_CERT_REQS = {"required": ssl.CERT_REQUIRED, "cert_required": ssl.CERT_REQUIRED,
              "optional": ssl.CERT_OPTIONAL, "cert_optional": ssl.CERT_OPTIONAL,
              "none": ssl.CERT_NONE, "cert_none": ssl.CERT_NONE}
AMQPS_PORT = 5671


def _false(value: str) -> bool:
    return value.strip().lower() in ("false", "0", "no", "off")


def kombu_parameters(url: str) -> tuple[str, dict | None]:
    """(kombu URL, ``ssl`` argument) for a bus URL: TLS verified unless the URL says otherwise."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    tls = {k.lower(): v for k, v in query if k.lower().startswith("ssl_")}
    plain = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if not k.lower().startswith("ssl_")])))
    for key in ("ssl_cert_reqs",):
        if key in tls:
            if tls[key].strip().lower() not in _CERT_REQS:
                raise ValueError(f"{key}={tls[key]!r}: use required, optional or none")
            tls[key] = _CERT_REQS[tls[key].strip().lower()]
    if parts.scheme == "rediss":
        options: dict = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_check_hostname": True}
        options.update(tls)
        if "ssl_check_hostname" in tls:
            options["ssl_check_hostname"] = not _false(tls["ssl_check_hostname"])
        if options["ssl_cert_reqs"] == ssl.CERT_NONE:
            options["ssl_check_hostname"] = False
        return plain, options
    if parts.scheme in ("amqp", "amqps", "pyamqp"):
        rest = plain.split("://", 1)[1]
        if parts.scheme != "amqps":
            return "pyamqp://" + rest, None  # kombu's pyamqp transport for AMQP URLs
        if parts.port is None:
            host = parts.netloc.rsplit("@", 1)
            host[-1] = f"{host[-1]}:{AMQPS_PORT}"
            rest = "@".join(host) + rest[len(parts.netloc):]
        options = {"cert_reqs": tls.get("ssl_cert_reqs", ssl.CERT_REQUIRED),
                   "server_hostname": parts.hostname}
        for ours, theirs in (("ssl_ca_certs", "ca_certs"), ("ssl_certfile", "certfile"), ("ssl_keyfile", "keyfile")):
            if ours in tls:
                options[theirs] = tls[ours]
        if _false(tls.get("ssl_check_hostname", "true")) or options["cert_reqs"] == ssl.CERT_NONE:
            options.pop("server_hostname")
        return "pyamqp://" + rest, options
    return url, None


def events_url() -> str:
    """The kombu URL of the bus (TLS options are passed apart: see :func:`connection`)."""
    return kombu_parameters(get_settings().effective_events_url)[0]


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
    """A new kombu connection to the bus (``url``: a bus URL, default the configured
    one). Connect timeout: 5 seconds."""
    url, tls = kombu_parameters(url or get_settings().effective_events_url)
    options = {"socket_timeout": 10}
    if url.startswith("memory://"):
        options["polling_interval"] = MEMORY_POLLING_INTERVAL_SECONDS
    if url.startswith(("redis://", "rediss://")):
        options.update(REDIS_UNACKED_OPTIONS)
    transport = RedisTransport if url.startswith("redis://") else None  # rediss:// keeps kombu's TLS set-up
    return Connection(url, ssl=tls or False, connect_timeout=5, transport_options=options, transport=transport)


def tail_queue(types: list[str] | None = None, name: str | None = None) -> Queue:
    """An exclusive, auto-deleted queue bound to ``types`` (all when None)."""
    keys = types or ["#"]
    from kombu import binding

    return Queue(name or "", exchange=EXCHANGE, bindings=[binding(EXCHANGE, routing_key=k) for k in keys],
                 exclusive=True, auto_delete=True, durable=False)
