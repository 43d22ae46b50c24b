"""A retry waiting in a worker's memory when Redis dies is not stranded: once Redis is
back (restarted from its append-only file), the retry runs in the same living worker."""

from __future__ import annotations

import time

import pytest

from etsyflow.messages import CloudEvent

pytestmark = [pytest.mark.faults, pytest.mark.integration]

OUTAGE_SECONDS = 3.0


def test_a_delayed_message_held_in_memory_survives_a_broker_restart(configure, private_redis, redis_url):
    from etsyflow.workers.broker import build_broker
    from etsyflow.workers.options import HEARTBEAT_TIMEOUT
    from etsyflow.messages.tail import EventTail
    from etsyflow.runtime import Runtime

    configure(REDIS_URL=private_redis.url, EVENTS_URL=redis_url)
    with EventTail() as tail, Runtime(broker=build_broker(), bridge=False, worker_threads=2) as runtime:
        event = CloudEvent.new("StockChanged", {"shop_id": 5, "quantity": "many"}, source="test")
        runtime.actors["StockChanged"].send_with_options(args=(event.to_dict(),), delay=8_000)
        # the worker fetches it at once and keeps it in memory until it is due
        client = private_redis.client()
        deadline = time.monotonic() + 10
        while not any(client.scard(k) for k in client.keys("dramatiq:__acks__.*.etsyflow.stock.DQ")):
            assert time.monotonic() < deadline, "the worker never fetched the delayed message"
            time.sleep(0.05)
        private_redis.crash()
        time.sleep(OUTAGE_SECONDS)
        private_redis.start()
        back = time.monotonic()
        [answer] = tail.wait_for("EventRejected", lambda e: e.get("causationid") == event.id,
                                 timeout=2 * HEARTBEAT_TIMEOUT / 1000)
    print(f"answered {time.monotonic() - back:.1f} s after Redis came back")
    assert answer["data"]["id"] == event.id
