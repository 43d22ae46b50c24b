"""The shared rate limiter on embedded Redis (fakeredis with Lua)."""

from __future__ import annotations

import threading
import time

import fakeredis
import pytest

from etsyflow.config import Settings
from etsyflow.etsy.errors import RateLimited
from etsyflow.etsy.ratelimit import TRANSIT_MS, RateLimiter, remaining_today


def rl_settings(per_second=5, per_day=1000) -> Settings:
    return Settings(etsy_rate_per_second=per_second, etsy_rate_per_day=per_day, etsy_timeout_seconds=5)


def limiter(per_second=5, per_day=1000, **kwargs) -> RateLimiter:
    return RateLimiter(fakeredis.FakeRedis(), rl_settings(per_second, per_day), **kwargs)


def test_calls_within_the_limit_do_not_wait():
    rl = limiter(per_second=5)
    started = time.monotonic()
    for _ in range(5):
        rl.release(rl.acquire())
    assert time.monotonic() - started < 0.5


def test_the_next_call_waits_for_the_oldest_slot_to_age_out():
    rl = limiter(per_second=5)
    for _ in range(5):
        rl.release(rl.acquire())
    started = time.monotonic()
    slot = rl.acquire()
    waited = time.monotonic() - started
    assert 0.8 <= waited <= 1.5
    assert slot.waited_seconds == pytest.approx(waited, abs=0.05)


def test_a_wait_longer_than_allowed_raises_rate_limited_not_daily():
    rl = limiter(per_second=2)
    rl.release(rl.acquire())
    rl.release(rl.acquire())
    with pytest.raises(RateLimited) as caught:
        rl.acquire(max_wait_seconds=0.1)
    assert caught.value.daily is False
    assert 0 < caught.value.retry_after_seconds <= 1.1


def test_in_flight_calls_hold_their_slot_and_count_from_when_they_reached_etsy():
    rl = limiter(per_second=1)
    sent = time.monotonic()
    slot = rl.acquire()
    with pytest.raises(RateLimited):
        rl.acquire(max_wait_seconds=0.3)  # the first call has no answer yet: its slot is held
    rl.release(slot)  # answered ≥ 0.3 s after it was sent
    rl.release(rl.acquire(max_wait_seconds=2))
    # One second after it reached Etsy (sent + TRANSIT_MS), not one second after its
    # answer (that would be ≥ 1.3 s): Etsy's time over the call does not hold the slot.
    assert 1.0 <= time.monotonic() - sent <= 1.0 + TRANSIT_MS / 1000 + 0.2


def test_a_slow_answer_frees_its_slot_as_soon_as_it_is_in():
    rl = limiter(per_second=1)
    slot = rl.acquire()
    with pytest.raises(RateLimited):
        rl.acquire(max_wait_seconds=1.2)  # Etsy works on it for more than a second
    rl.release(slot)  # it reached Etsy over a second ago: the slot is free at once
    started = time.monotonic()
    rl.release(rl.acquire(max_wait_seconds=2))
    assert time.monotonic() - started < 0.2


def test_a_per_second_429_widens_the_margin_for_every_worker():
    """Etsy counted a call later than the margin allowed: every worker counts slow calls from
    their answer again (for a while), so a loaded Etsy gets a few 429s, not a stream."""
    rl = limiter(per_second=1)
    for _ in range(3):
        rl.block(seconds=0.001, daily=False)  # 40 → 80 → 160 → 320 ms
    other = RateLimiter(rl.redis, rl_settings(per_second=1))
    slot = other.acquire(max_wait_seconds=1)
    sent = time.monotonic()
    with pytest.raises(RateLimited):
        other.acquire(max_wait_seconds=0.3)  # the call takes ≥ 0.3 s
    other.release(slot)
    other.release(other.acquire(max_wait_seconds=2))
    assert time.monotonic() - sent >= 1.25  # a second after the answer, not after sent + 40 ms


def test_daily_budget_parks_at_once():
    rl = limiter(per_second=100, per_day=3)
    for _ in range(3):
        rl.release(rl.acquire())
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        rl.acquire()
    assert time.monotonic() - started < 0.2
    assert caught.value.daily is True
    assert 86000 < caught.value.retry_after_seconds <= 86400
    assert rl.remaining_today() == 0


def test_a_daily_429_from_etsy_blocks_every_worker():
    rl = limiter()
    other_worker = RateLimiter(rl.redis, Settings(etsy_rate_per_second=5))
    rl.block(seconds=120, daily=True)
    with pytest.raises(RateLimited) as caught:
        other_worker.acquire()
    assert caught.value.daily and 110 < caught.value.retry_after_seconds <= 120
    assert other_worker.remaining_today() == 0


def test_a_per_second_429_pauses_every_worker_for_retry_after():
    rl = limiter()
    rl.block(seconds=1, daily=False)
    started = time.monotonic()
    rl.release(rl.acquire())
    assert 0.8 <= time.monotonic() - started <= 1.5


def test_etsy_headers_lower_the_limits_and_set_remaining_today():
    rl = limiter(per_second=10, per_day=10000)
    rl.observe({"x-limit-per-second": "4", "x-limit-per-day": "5000", "x-remaining-today": "1234"})
    assert rl.effective_limits() == (4, 5000)
    assert rl.remaining_today() == 1234
    assert remaining_today(rl.redis, Settings(etsy_rate_per_second=10, etsy_rate_per_day=10000)) == 1234
    for _ in range(4):
        rl.release(rl.acquire())
    with pytest.raises(RateLimited):
        rl.acquire(max_wait_seconds=0.2)  # 4/s now, not 10/s
    # A higher figure from Etsy never raises the configured limit.
    rl.observe({"x-limit-per-second": "50"})
    assert rl.effective_limits()[0] == 10


def test_remaining_today_counts_local_calls():
    rl = limiter(per_second=100, per_day=50)
    for _ in range(7):
        rl.release(rl.acquire())
    assert rl.remaining_today() == 43
    assert rl.status()["used_today"] == 7


def test_threads_never_exceed_the_limit_in_any_second():
    rl = limiter(per_second=10)
    granted: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + 2.2

    def work():
        other = RateLimiter(rl.redis, Settings(etsy_rate_per_second=10, etsy_timeout_seconds=5))
        while time.monotonic() < stop:
            slot = other.acquire(max_wait_seconds=5)
            with lock:
                granted.append(time.monotonic())
            other.release(slot)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=15)
    granted.sort()
    worst = max(sum(1 for g in granted if s <= g < s + 1.0) for s in granted)
    assert worst <= 10
    assert len(granted) >= 20  # ~10/s for 2.2 s
