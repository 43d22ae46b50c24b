"""Fixtures: one sandbox per module over real HTTP, reset before each test."""

from __future__ import annotations

import pytest
import requests

from etsyflow.sandbox.spec import find_openapi_path
from etsyflow.sandbox.testing import run_sandbox

TIMEOUT = 10


@pytest.fixture(scope="module")
def sandbox_server():
    if find_openapi_path() is None:
        pytest.skip("Etsy's openapi.json not found (../shared/etsy/openapi.json or ETSY_OPENAPI_PATH)")
    with run_sandbox(rate_per_second=1000, rate_per_day=1_000_000, check_responses=True) as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.admin.reset()
    sandbox_server.admin.config(rate_per_second=1000, rate_per_day=1_000_000, strict=True, check_responses=True,
                                access_token_ttl_seconds=3600)
    yield sandbox_server
    violations = sandbox_server.admin.violations()
    assert violations == [] or all(v["kind"] == "request" for v in violations), violations


class Etsy:
    """A tiny client for the tests: api key + Bearer token, a timeout on every call."""

    def __init__(self, sandbox, token=None, api_key=None):
        self.base = sandbox.url + "/v3/application"
        self.session = requests.Session()
        self.session.headers["x-api-key"] = api_key or sandbox.api_key
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, **kw):
        return self.session.request(method, self.base + path, timeout=TIMEOUT, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def put(self, path, **kw):
        return self.call("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.call("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def shop(sandbox):
    return sandbox.admin.create_shop(shop_name="TestShop")


@pytest.fixture
def etsy(sandbox, shop):
    return Etsy(sandbox, shop["access_token"])
