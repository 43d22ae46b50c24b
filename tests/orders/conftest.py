"""Order integration setup: real Redis (``ETSYFLOW_TEST_REDIS_DB``), the sandbox over HTTP,
a connected shop whose tokens were imported the way an operator does it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from etsyflow.sandbox.config import DEFAULT_WEBHOOK_SECRET

from ..conftest import TEST_SECRET_KEY  # noqa: F401  (re-exported for the subprocess tests)
from tests.waiting import wait_for


@dataclass
class Shop:
    shop_id: int
    sandbox: object

    @property
    def admin(self):
        return self.sandbox.admin

    def bulk(self, count: int, **fields) -> list[int]:
        return [int(r) for r in self.admin.bulk_receipts(self.shop_id, count, **fields)["receipt_ids"]]

    def order(self, **fields) -> int:
        return int(self.admin.create_receipt(self.shop_id, **fields)["receipt_id"])

    def act(self, receipt_id: int, action: str, **fields) -> dict:
        return self.admin.receipt_action(receipt_id, action, **fields)

    def list_calls(self) -> list[dict]:
        return [c for c in self.admin.calls(operation_id="getShopReceipts") if c.get("shop_id") in (None, self.shop_id)]


@pytest.fixture
def sandbox():
    from etsyflow.sandbox.testing import run_sandbox

    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def orders_env(configure, redis_url, sandbox):
    """Settings on real Redis and the sandbox; Etsy calls time out after 5 s."""
    return configure(REDIS_URL=redis_url, **sandbox.env(), ETSY_TIMEOUT_SECONDS="5",
                     WEBHOOK_SIGNING_SECRET=DEFAULT_WEBHOOK_SECRET)


@pytest.fixture
def shop(orders_env, sandbox) -> Shop:
    from etsyflow.shops.oauth import import_tokens

    made = sandbox.admin.create_shop(country_iso="DE", currency_code="EUR")
    import_tokens(made["shop_id"], made["access_token"], made["refresh_token"])
    return Shop(int(made["shop_id"]), sandbox)


def tick(shop_id=None, mode=None, source="test"):
    """Publish an OrdersPollTick on the bus, as the scheduler or an upstream would."""
    from etsyflow.messages import CloudEvent, publish

    data = {} if shop_id is None else {"shop_id": shop_id}
    if mode:
        data["mode"] = mode
    return publish(CloudEvent.new("OrdersPollTick", data, source=source))


def drain(tail, timeout=15.0):
    """Wait until everything published before now has reached ``tail`` (a marker goes round the bus)."""
    from etsyflow.messages import CloudEvent, publish

    marker = str(uuid.uuid4())
    # An etsyflow follow-up type: the bridge skips it, the tail sees it.
    publish(CloudEvent.new("EventRejected", {"type": "drain-marker", "id": marker, "errors": []}))
    tail.wait_for("EventRejected", lambda e: e["data"].get("id") == marker, timeout=timeout)


def wait_until(condition, timeout=15.0, what="condition"):
    return wait_for(condition, timeout, what)


def polls_done(shop_id, mode="incremental"):
    """How many polls of ``mode`` have finished for the shop (from its status record)."""
    from etsyflow.orders.store import OrderState

    return int(OrderState(shop_id).status().get(f"{mode}_polls") or 0)


def orders(tail, kind="OrderDownloaded", shop_id=None):
    return [e for e in tail.of_type(kind) if shop_id is None or e["data"]["shop_id"] == shop_id]


def poll_now(shop_id, mode=None, timeout=30.0):
    """Publish a tick for the shop and wait until that poll has finished (recorded, lock free)."""
    from etsyflow.orders.store import OrderState

    state = OrderState(shop_id)
    kind = mode or "incremental"
    wait_until(lambda: not state.is_locked(), timeout, what="the running poll to end")
    before = polls_done(shop_id, kind)
    tick(shop_id, mode)
    wait_until(lambda: polls_done(shop_id, kind) > before and not state.is_locked(), timeout,
               what=f"the {kind} poll")
