"""One Redis client per process, or an embedded in-memory one.

With ``REDIS_URL`` unset the process gets a :class:`fakeredis.FakeRedis` (with
Lua, so Dramatiq's Redis broker and our scripts run unchanged) shared by every
part of the process: the demo needs nothing installed.
"""

from __future__ import annotations

import threading

import redis

from ..config import get_settings

_lock = threading.Lock()
_client: redis.Redis | None = None
_fake_server = None


def embedded_server():
    """The process-wide fakeredis server used when no ``REDIS_URL`` is set."""
    global _fake_server
    import fakeredis  # only the embedded (demo, tests) setup loads the in-memory Redis

    with _lock:
        if _fake_server is None:
            _fake_server = fakeredis.FakeServer()
        return _fake_server


def make_client(url: str | None) -> redis.Redis:
    """A new client for ``url``, or for the embedded server when ``url`` is None.

    Socket timeouts are bounded (seconds) so no Redis call waits forever.
    """
    if url:
        return redis.Redis.from_url(
            url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30
        )
    import fakeredis  # only the embedded setup needs it (see embedded_server)

    return fakeredis.FakeRedis(server=embedded_server())


def get_redis() -> redis.Redis:
    """The process-wide state client (``REDIS_URL``, or embedded)."""
    global _client
    if _client is None:
        client = make_client(get_settings().redis_url)
        with _lock:
            if _client is None:
                _client = client
    return _client


def reset_redis(client: redis.Redis | None = None) -> None:
    """Replace (or forget) the process-wide client; tests use this."""
    global _client, _fake_server
    with _lock:
        _client = client
        if client is None:
            _fake_server = None
