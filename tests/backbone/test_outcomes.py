"""A message is acknowledged only once its retry is stored: a retry that cannot be
enqueued (broker away) holds the acknowledgement back until the broker takes it."""

from __future__ import annotations

import threading
import time

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import ConnectionClosed


class FlakyBroker(StubBroker):
    """A stub broker that refuses the next ``refusals`` enqueues, as Redis does while it is down."""

    refusals = 0
    stored_retries: list = []

    def enqueue(self, message, *, delay=None):
        if self.refusals > 0:
            self.refusals -= 1
            raise ConnectionClosed(ConnectionError("broker away"))
        if message.options.get("retries"):
            self.stored_retries.append(time.monotonic())
        return super().enqueue(message, delay=delay)


def test_a_retry_the_broker_refused_is_stored_before_the_message_is_acknowledged(embedded):
    from etsyflow.workers.broker import add_middleware

    broker = FlakyBroker()
    add_middleware(broker)
    runs, acked = [], []
    done = threading.Event()

    class Acks(dramatiq.Middleware):
        def after_ack(self, broker, message):
            acked.append((time.monotonic(), message.queue_name))

    broker.add_middleware(Acks())

    @dramatiq.actor(broker=broker, max_retries=3, min_backoff=10, max_backoff=10)
    def flaky_once():
        runs.append(time.monotonic())
        if len(runs) == 1:
            broker.refusals = 2  # the broker goes away as the first attempt fails
            raise RuntimeError("Etsy 503")
        done.set()

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        flaky_once.send()
        assert done.wait(30), f"the retry never ran (runs: {len(runs)}, acks: {acked})"
        broker.join(flaky_once.queue_name, timeout=10_000)
    finally:
        worker.stop()
    assert len(runs) == 2
    # the first attempt was acknowledged after its retry was stored, not before
    first_ack = next(at for at, queue in acked if not queue.endswith(".DQ"))
    assert broker.stored_retries and broker.stored_retries[0] < first_ack
