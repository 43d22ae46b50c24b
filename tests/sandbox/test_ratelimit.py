"""Per-app quotas: Etsy's headers on every answer, 429 with retry-after, counters."""

from __future__ import annotations

import threading

from etsy_sandbox.ratelimit import RateLimiter

from .conftest import Etsy


class FakeClock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_sliding_window_never_allows_more_than_n_in_any_second():
    clock = FakeClock()
    limiter = RateLimiter(3, 1000, "sliding", clock=clock)
    assert [limiter.acquire().allowed for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5
    refused = limiter.acquire()
    assert not refused.allowed and refused.reason == "second" and refused.retry_after == 1
    clock.now += 0.51  # the first three leave the window
    assert limiter.acquire().allowed
    assert limiter.stats()["peak_per_second"] == 3


def test_fixed_window_resets_on_the_wall_clock_second():
    clock = FakeClock(1_800_000_000.9)
    limiter = RateLimiter(2, 1000, "fixed", clock=clock)
    assert [limiter.acquire().allowed for _ in range(3)] == [True, True, False]
    clock.now = 1_800_000_001.0
    assert limiter.acquire().allowed


def test_daily_limit_and_its_retry_after():
    clock = FakeClock()
    limiter = RateLimiter(100, 3, clock=clock)
    for _ in range(3):
        assert limiter.acquire().allowed
        clock.now += 10
    refused = limiter.acquire()
    assert refused.reason == "day" and 86000 < refused.retry_after <= 86400
    assert refused.headers()["x-remaining-today"] == "0"
    clock.now += 86400 - 30 + 1  # the first call leaves the rolling day
    assert limiter.acquire().allowed


def test_headers_and_429_over_http(sandbox, shop, etsy):
    sandbox.admin.rate_limits(per_second=3, per_day=1000, reset=True)
    first = etsy.get("/users/me")
    assert first.headers["x-limit-per-second"] == "3"
    assert first.headers["x-remaining-this-second"] == "2"
    assert first.headers["x-limit-per-day"] == "1000"
    assert first.headers["x-remaining-today"] == "999"
    replies = [etsy.get("/users/me") for _ in range(5)]
    limited = [r for r in replies if r.status_code == 429]
    assert limited, [r.status_code for r in replies]
    assert limited[0].json() == {"error": "Exceeded per second rate limit"}
    assert 1 <= int(limited[0].headers["retry-after"]) <= 1
    counters = sandbox.admin.counters()
    assert counters["rate_limited_429"] == len(limited)
    assert counters["peak_per_second"] == 3


def test_daily_429_over_http(sandbox, shop, etsy):
    sandbox.admin.rate_limits(per_second=100, per_day=2, reset=True)
    assert [etsy.get("/users/me").status_code for _ in range(2)] == [200, 200]
    refused = etsy.get("/users/me")
    assert refused.status_code == 429
    assert refused.json() == {"error": "Exceeded daily rate limit"}
    assert 86000 <= int(refused.headers["retry-after"]) <= 86400


def test_concurrent_callers_are_limited_exactly(sandbox, shop):
    sandbox.admin.rate_limits(per_second=20, per_day=100000, reset=True)
    statuses = []
    lock = threading.Lock()

    def hammer():
        etsy = Etsy(sandbox, shop["access_token"])
        for _ in range(10):
            code = etsy.get(f"/shops/{shop['shop_id']}").status_code
            with lock:
                statuses.append(code)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(statuses) == 80 and set(statuses) <= {200, 429}
    counters = sandbox.admin.counters()
    assert counters["peak_per_second"] <= 20
    assert counters["rate_limited_429"] == statuses.count(429)
    assert counters["default_app"]["accepted"] == statuses.count(200)
