"""Per-shop order state: the cursor only moves forward, one poll per shop, nothing personal stored."""

import fakeredis
import pytest

from etsyflow.orders.store import OrderState


@pytest.fixture
def redis():
    return fakeredis.FakeRedis()


def test_cursor_only_moves_forward(redis):
    state = OrderState(7, redis)
    assert state.cursor() is None
    assert state.advance_cursor(1000) == 1000
    assert state.advance_cursor(900) == 1000
    assert state.cursor() == 1000
    assert OrderState(8, redis).cursor() is None  # per shop


def test_one_poll_per_shop(redis):
    first, second = OrderState(7, redis), OrderState(7, redis)
    assert first.acquire(30)
    assert not second.acquire(30)
    assert OrderState(8, redis).acquire(30)  # another shop is not blocked
    second.release()  # not the holder: no effect
    assert first.is_locked()
    assert first.extend(30)
    first.release()
    assert second.acquire(30)


def test_lock_lapses_after_its_ttl(redis):
    state = OrderState(7, redis)
    assert state.acquire(0.05)
    redis.pexpire(state.keys["lock"], 1)  # as if the holder died long ago
    import time

    deadline = time.monotonic() + 2
    while state.is_locked() and time.monotonic() < deadline:
        time.sleep(0.01)
    other = OrderState(7, redis)
    assert other.acquire(30)
    assert not state.extend(30)  # the old holder learns it lost the lock


def test_polls_asked_for_meanwhile_are_taken_once(redis):
    state = OrderState(7, redis)
    state.ask_again("incremental", 30)
    state.ask_again("incremental", 30)
    state.ask_again("reconcile", 30)
    assert state.take_again() == ["incremental", "reconcile"]
    assert state.take_again() == []


def test_seen_round_trip_and_unreadable_records(redis):
    state = OrderState(7, redis)
    state.remember(1, "fp1", 1, {"status": "paid"})
    redis.hset(state.keys["seen"], "2", b"{broken")
    found = state.seen_many([1, 2, 3])
    assert list(found) == [1]
    assert found[1].fingerprint == "fp1" and found[1].version == 1 and found[1].snapshot == {"status": "paid"}


def test_records_keep_a_moving_average_of_calls(redis):
    state = OrderState(7, redis)
    state.record("incremental", calls=1, downloaded=0, updated=0, seconds=0.1, at=1000.0)
    state.record("incremental", calls=11, downloaded=1000, updated=0, seconds=2.0, at=1300.0)
    status = state.status()
    assert status["last_incremental_calls"] == 11 and status["last_incremental_downloaded"] == 1000
    assert state.calls_average("incremental", 1.0) == pytest.approx(0.3 * 11 + 0.7 * 1)
    assert state.calls_average("reconcile", 2.0) == 2.0
