"""Shared setup for integration tests over real Redis and the sandbox over HTTP.

Redis: DB ``ETSYFLOW_TEST_ETSY_REDIS_DB`` (default 14) with a key prefix per
test; the test's keys (and the default ``etsyflow:`` keys the CLI writes) are
deleted afterwards. The sandbox's admin interface is driven over plain HTTP.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

import pytest
import requests

from tests.conftest import REDIS_HOST, REDIS_PORT, redis_reachable, require_service

ETSY_REDIS_DB = int(os.environ.get("ETSYFLOW_TEST_ETSY_REDIS_DB", "14"))
REDIRECT_URI = "http://127.0.0.1:9/etsy/callback"


class Admin:
    """The sandbox admin API: ``admin("POST", "/shops", shop_name=...)`` -> JSON."""

    def __init__(self, url: str):
        self.base = url.rstrip("/") + "/_sandbox"

    def __call__(self, method: str, path: str, **body):
        response = requests.request(method, self.base + path, json=body if body else None, timeout=10)
        if response.status_code >= 400:
            raise AssertionError(f"sandbox admin {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def counters(self) -> dict:
        return self("GET", "/counters")

    def create_shop(self, **body) -> dict:
        return self("POST", "/shops", **body)


@dataclass
class Env:
    settings: object
    redis: object
    prefix: str
    sandbox: object
    admin: Admin
    redis_url: str

    def store(self):
        from etsyflow.shops import ShopStore

        return ShopStore(self.redis, self.settings, prefix=self.prefix)

    def client(self, shop_id, **kwargs):
        from etsyflow.shops import shop_client

        return shop_client(shop_id, self.settings, self.redis, prefix=self.prefix, **kwargs)

    def dump(self) -> bytes:
        """Every key and value under this test's prefix and ``etsyflow:`` (bytes)."""
        out = []
        for pattern in (f"{self.prefix}:*", "etsyflow:*"):
            for key in self.redis.scan_iter(pattern):
                kind = self.redis.type(key)
                out.append(key)
                if kind == b"string":
                    out.append(self.redis.get(key) or b"")
                elif kind == b"hash":
                    for k, v in self.redis.hgetall(key).items():
                        out += [k, v]
                elif kind == b"zset":
                    out += self.redis.zrange(key, 0, -1)
                elif kind == b"set":
                    out += list(self.redis.smembers(key))
                elif kind == b"list":
                    out += self.redis.lrange(key, 0, -1)
        return b"\n".join(out)


@pytest.fixture
def etsy_redis_url():
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{ETSY_REDIS_DB}"
    require_service(redis_reachable(url), f"Redis at {url}")
    return url


@pytest.fixture
def sandbox():
    from etsyflow.sandbox.testing import run_sandbox

    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def env(configure, etsy_redis_url, sandbox):
    from etsyflow.state import get_redis

    settings = configure(REDIS_URL=etsy_redis_url, ETSY_API_URL=sandbox.url,
                         ETSY_AUTHORIZE_URL=sandbox.url.rstrip("/") + "/oauth/connect",
                         ETSY_KEYSTRING=sandbox.keystring, ETSY_SHARED_SECRET=sandbox.shared_secret,
                         ETSY_REDIRECT_URI=REDIRECT_URI, ETSY_TIMEOUT_SECONDS=5)
    redis = get_redis()
    prefix = f"etsyflow-test-{secrets.token_hex(4)}"
    yield Env(settings, redis, prefix, sandbox, Admin(sandbox.url), etsy_redis_url)
    for pattern in (f"{prefix}:*", "etsyflow:shop*", "etsyflow:etsy:*", "etsyflow:oauth:*"):
        keys = list(redis.scan_iter(pattern))
        if keys:
            redis.delete(*keys)
