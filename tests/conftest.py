"""Shared fixtures.

- ``embedded``: settings with no Redis: fakeredis state and broker, kombu
  memory bus (fresh for each test).
- ``real_redis``: settings on a real Redis (DB ``ETSYFLOW_TEST_REDIS_DB``,
  default 15, flushed before and after). Skipped when Redis is unreachable,
  unless ``CI`` is set: then it fails, so CI never passes by skipping.
- ``runtime``: worker threads + bridge in this process on the current settings.
- ``tail``: an :class:`~etsyflow.messages.tail.EventTail` on the current bus.
- ``configure(**env)``: apply settings from environment-style keys.
"""

from __future__ import annotations

import os

import pytest

from etsyflow.config import Settings, reset_settings
from etsyflow.config.logging import configure_logging
from etsyflow.messages import reset_publisher
from etsyflow.state import reset_redis

REDIS_HOST = os.environ.get("ETSYFLOW_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("ETSYFLOW_TEST_REDIS_PORT", "6379"))
REDIS_DB = int(os.environ.get("ETSYFLOW_TEST_REDIS_DB", "15"))
AMQP_URL = os.environ.get("ETSYFLOW_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
TEST_SECRET_KEY = "test-secret-key-0123456789abcdef"

configure_logging("INFO", json=True)


def _reset_memory_bus() -> None:
    from kombu.transport import memory

    memory.Channel.queues.clear()
    memory.Channel.events.clear()
    memory.Transport.global_state.clear()


def apply_env(**env) -> Settings:
    """Make ``env`` (contract names, e.g. REDIS_URL=…) the process settings."""
    base = {"SECRET_KEY": TEST_SECRET_KEY}
    base.update({k: str(v) for k, v in env.items() if v is not None})
    settings = Settings.from_env(base)
    reset_settings(settings)
    reset_redis()
    reset_publisher()
    return settings


def redis_reachable(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping()
        return True
    except Exception:
        return False


def amqp_reachable(url: str = AMQP_URL) -> bool:
    import socket
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 5672), timeout=1):
            return True
    except OSError:
        return False


def require_service(reachable: bool, what: str, *, expected: bool = False) -> None:
    """The one rule for a missing service or file: skip the test, except where it must be
    there (``CI`` set, or ``expected``, e.g. ETSYFLOW_TEST_RABBITMQ): then fail."""
    if reachable:
        return
    if os.environ.get("CI") or expected:
        pytest.fail(f"{what} is not reachable, and this run must not pass by skipping")
    pytest.skip(f"{what} is not reachable")


@pytest.fixture
def configure():
    yield apply_env
    reset_settings()
    reset_redis()
    reset_publisher()


@pytest.fixture
def embedded(configure):
    _reset_memory_bus()
    settings = configure()
    yield settings
    _reset_memory_bus()


@pytest.fixture
def redis_url():
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    require_service(redis_reachable(url), f"Redis at {url}")
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def real_redis(configure, redis_url):
    yield configure(REDIS_URL=redis_url)


@pytest.fixture
def runtime():
    from etsyflow.runtime import Runtime

    rt = Runtime(worker_threads=4).start()
    yield rt
    rt.stop()


@pytest.fixture
def tail():
    from etsyflow.messages.tail import EventTail

    t = EventTail().start()
    yield t
    t.stop()


@pytest.fixture
def sandbox():
    """The local Etsy sandbox over real HTTP (strict OpenAPI checking on)."""
    from etsyflow.sandbox.testing import run_sandbox

    with run_sandbox(rate_per_second=100) as handle:
        yield handle


def connect_shop(sandbox, **shop_fields) -> int:
    """Create a seller shop on the sandbox and import its tokens as an operator would."""
    from etsyflow.shops.oauth import import_tokens

    made = sandbox.admin.create_shop(**shop_fields)
    import_tokens(made["shop_id"], made["access_token"], made["refresh_token"])
    return int(made["shop_id"])


@pytest.fixture
def embedded_shop(embedded, configure, sandbox) -> int:
    """Embedded parts + sandbox + one connected shop; returns its shop id."""
    configure(**sandbox.env())
    return connect_shop(sandbox)


@pytest.fixture
def redis_shop(configure, redis_url, sandbox) -> int:
    """Real Redis + sandbox + one connected shop; returns its shop id."""
    configure(REDIS_URL=redis_url, **sandbox.env())
    return connect_shop(sandbox)
