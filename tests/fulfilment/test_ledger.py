"""The per-parcel record and lock (fakeredis with Lua; the integration tests use real Redis)."""

from __future__ import annotations

import threading

import fakeredis
import pytest

from etsyflow.fulfilment.ledger import ParcelBusy, ParcelLedger, parcel_ref


@pytest.fixture
def ledger():
    return ParcelLedger(fakeredis.FakeRedis(), lock_seconds=5, lock_wait_seconds=0.3)


def test_one_key_per_parcel_whatever_the_spelling():
    assert parcel_ref("JC243137885GB") == "TJC243137885GB"
    assert parcel_ref("", "box 1") == parcel_ref("", "box 1") != parcel_ref("", "box 2")
    assert parcel_ref("", "box 1").startswith("P") and len(parcel_ref("", "box 1")) == 33
    assert parcel_ref("", None) == "U"
    assert ParcelLedger.record_key(5, 77, "TX") == "etsyflow:fulfilment:parcel:5:77:TX"


def test_record_goes_pending_then_confirmed(ledger):
    key = ledger.record_key(5, 77, "TX")
    assert ledger.get(key) is None
    ledger.mark_pending(key, "evt-1", {11, 12})
    record = ledger.get(key)
    assert record.pending and record.attempts == 1 and record.before_ids == {11, 12}
    ledger.mark_attempt_ended(key)
    ledger.mark_pending(key, "evt-2")
    record = ledger.get(key)
    assert record.attempts == 2 and record.event_id == "evt-1" and record.attempt_ended_at is None
    ledger.mark_confirmed(key, "evt-2", {"receipt_shipping_id": 99, "carrier": "ups"})
    record = ledger.get(key)
    assert record.confirmed and record.receipt_shipping_id == 99 and record.result["carrier"] == "ups"
    assert 0 < ledger.redis.ttl(key) <= 180 * 24 * 3600
    ledger.forget(key)
    assert ledger.get(key) is None


def test_second_holder_waits_a_bounded_time_then_is_told_busy(ledger):
    with ledger.lock(5, 77, "TX"):
        outcome = []

        def other():
            try:
                with ledger.lock(5, 77, "TX"):
                    outcome.append("got it")
            except ParcelBusy as busy:
                outcome.append(str(busy))

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(5)
        assert outcome and "being sent by another worker" in outcome[0]
        with ledger.lock(5, 77, "TY"):  # another parcel is not held up
            pass
    with ledger.lock(5, 77, "TX") as held:  # released on exit
        assert held.renew()
