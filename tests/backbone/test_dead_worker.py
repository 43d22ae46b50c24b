"""A worker that dies holding messages: with the shipped settings they are back
in their queue, and answered, within twice the heartbeat timeout."""

from __future__ import annotations

import time

import pytest

from etsyflow.messages import CloudEvent

pytestmark = pytest.mark.integration

#: What the README promises operators: a dead worker's messages are answered within 30 s.
PROMISED_SECONDS = 30


def test_messages_held_by_a_dead_worker_are_answered_within_thirty_seconds(real_redis, tail):
    from etsyflow.workers.broker import build_broker
    from etsyflow.workers.options import HEARTBEAT_TIMEOUT
    from etsyflow.runtime import Runtime
    from etsyflow.workers import setup

    producer = build_broker()
    actors = setup(producer)
    sent = [CloudEvent.new("StockChanged", {"shop_id": 5, "quantity": "many"}, source="test") for _ in range(3)]
    for event in sent:
        actors["StockChanged"].send(event.to_dict())
    # A worker process fetches the three messages, then dies (SIGKILL: no requeue, no more heartbeats).
    doomed = build_broker()
    consumer = doomed.consume("etsyflow.stock", prefetch=3, timeout=100)
    held = [next(consumer) for _ in range(3)]
    assert all(message is not None for message in held)
    died_at = time.monotonic()
    del consumer, doomed

    with Runtime(broker=build_broker(), bridge=False, worker_threads=2):
        bound = min(2 * HEARTBEAT_TIMEOUT / 1000, PROMISED_SECONDS)
        answers = tail.wait_for("EventRejected", lambda e: e["causationid"] in {s.id for s in sent}, count=3,
                                timeout=bound - (time.monotonic() - died_at))
    assert sorted(a["causationid"] for a in answers) == sorted(s.id for s in sent)
    print(f"answered {time.monotonic() - died_at:.1f} s after the worker died (bound {bound:.0f} s)")
