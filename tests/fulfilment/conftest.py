"""Fulfilment integration setup: real Redis (DB ``ETSYFLOW_TEST_REDIS_DB``, flushed before and
after the module), the sandbox over HTTP, the worker/bridge runtime and an event tail — started
once per module (starting and stopping them costs ~1.5 s a test). Each test gets a shop of its
own, connected by importing tokens the way an operator does, so tests do not see each other's
orders, shipments or Etsy calls."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import REDIS_DB, REDIS_HOST, REDIS_PORT, apply_env, redis_reachable, require_service

# Etsy calls time out after this (seconds), so the timeout tests stay short.
TIMEOUT_SECONDS = "2"
# Unknown-outcome writes are re-tried after this (seconds); production default 10.
SETTLE_SECONDS = "3"


@dataclass
class World:
    sandbox: object
    runtime: object
    tail: object
    redis_url: str


@dataclass
class Shop:
    shop_id: int
    sandbox: object

    @property
    def admin(self):
        return self.sandbox.admin

    def order(self, **fields) -> int:
        """A paid order placed by a buyer (to the UK unless told); returns its receipt id."""
        fields.setdefault("country_iso", "GB")
        return int(self.admin.create_receipt(self.shop_id, **fields)["receipt_id"])

    def receipt(self, receipt_id: int) -> dict:
        """The receipt as Etsy shows it."""
        return self.admin.receipt(receipt_id)["receipt"]

    def notifications(self, receipt_id: int) -> list[dict]:
        """The shipping e-mails the buyer got."""
        return [n for n in self.admin.receipt(receipt_id)["notifications"] if n["kind"] == "shipped"]

    def shipments(self, receipt_id: int) -> list[dict]:
        return self.receipt(receipt_id)["shipments"]

    def read_calls(self, receipt_id: int | None = None) -> list[dict]:
        """getShopReceipt calls the sandbox answered for this shop (or one receipt)."""
        calls = self.admin.calls(operation_id="getShopReceipt", limit=10000)
        mine = f"/shops/{self.shop_id}/receipts/"
        return [c for c in calls if mine in c["path"]
                and (receipt_id is None or c["path"].rstrip("/").endswith(f"/receipts/{receipt_id}"))]

    def create_calls(self, receipt_id: int | None = None) -> list[dict]:
        """createReceiptShipment calls the sandbox answered for this shop (or one receipt)."""
        calls = self.admin.calls(operation_id="createReceiptShipment", limit=10000)
        mine = f"/shops/{self.shop_id}/receipts/"
        return [c for c in calls if mine in c["path"]
                and (receipt_id is None or f"/receipts/{receipt_id}/" in c["path"])]


@pytest.fixture(scope="module")
def world():
    from etsyflow.config import reset_settings
    from etsyflow.messages import reset_publisher
    from etsyflow.messages.tail import EventTail
    from etsyflow.runtime import Runtime
    from etsy_sandbox.testing import run_sandbox
    from etsyflow.state import reset_redis

    import redis

    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    require_service(redis_reachable(url), f"Redis at {url}")
    client = redis.Redis.from_url(url)
    client.flushdb()
    with run_sandbox() as sandbox:
        apply_env(REDIS_URL=url, **sandbox.env(), ETSY_TIMEOUT_SECONDS=TIMEOUT_SECONDS,
                  SHIPMENT_SETTLE_SECONDS=SETTLE_SECONDS)
        tail = EventTail().start()
        runtime = Runtime(worker_threads=4).start()
        try:
            yield World(sandbox, runtime, tail, url)
        finally:
            runtime.stop()
            tail.stop()
            reset_settings()
            reset_redis()
            reset_publisher()
    client.flushdb()
    client.close()


@pytest.fixture
def tail(world):
    return world.tail


@pytest.fixture
def runtime(world):
    return world.runtime


@pytest.fixture
def shop(world) -> Shop:
    from etsyflow.shops import import_tokens

    world.sandbox.admin.clear_faults()
    made = world.sandbox.admin.create_shop()
    import_tokens(made["shop_id"], made["access_token"], made["refresh_token"])
    return Shop(int(made["shop_id"]), world.sandbox)
