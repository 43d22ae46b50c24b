"""The real actors on Dramatiq's StubBroker, with a real Worker (as Dramatiq's own tests run them).

A test module names the shop it works on as ``CONNECTED_SHOP``: its tokens are
stored first, because a never-connected shop's events are rejected before any
handler runs.
"""

from __future__ import annotations

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from etsyflow.workers import setup


class Enqueued(Middleware):
    """Remembers every enqueue (message, delay in ms)."""

    def __init__(self):
        self.sent: list[tuple[dramatiq.Message, int | None]] = []

    def after_enqueue(self, broker, message, delay):
        self.sent.append((message, delay))

    @property
    def messages(self) -> list[dramatiq.Message]:
        return [message for message, _ in self.sent]


@pytest.fixture
def stub(embedded, request):
    """(broker, actors, enqueued) with one worker thread running; stopped afterwards."""
    from etsyflow.shops import ShopStore

    shop_id = request.module.CONNECTED_SHOP
    ShopStore().save_tokens(shop_id, f"{shop_id}.access-token", f"{shop_id}.refresh-token", 3600, connected=True)
    broker = StubBroker()
    enqueued = Enqueued()
    broker.add_middleware(enqueued)
    actors = setup(broker)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    yield broker, actors, enqueued
    worker.stop()
    broker.close()
