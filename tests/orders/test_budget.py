"""The scheduler's polling fits many shops into one daily quota, slows down as it drains, never stops."""

import pytest

from etsyflow.scheduler.budget import MAX_INTERVAL_SECONDS, plan

BASE = dict(poll_interval=300, reconcile_interval=3600, per_day=10000, share=0.5, calls_per_poll=2,
            calls_per_reconcile=2)


def test_few_shops_keep_the_configured_intervals():
    p = plan(shops=5, **BASE)
    assert (p.poll_interval, p.reconcile_interval) == (300, 3600)
    # 5 shops × (288 polls × 2 calls (modified, canceled) + 24 reconciles × 2 calls) a day
    assert p.planned_calls_per_day == pytest.approx(5 * (288 * 2 + 48))


def test_many_shops_stretch_the_interval_to_the_budget():
    p = plan(shops=100, **BASE)
    # reconcile: 100 × 2 × 86400 / (5000 / 4) = 13824 s; it costs 1250 calls a day
    assert p.reconcile_interval == pytest.approx(13824)
    # polls share the remaining 3750 calls: 100 × 2 × 86400 / 3750 = 4608 s
    assert p.poll_interval == pytest.approx(4608)
    assert p.planned_calls_per_day == pytest.approx(5000)
    assert "100 shops" in p.reason


def test_measured_calls_per_poll_count():
    assert plan(shops=100, **{**BASE, "calls_per_poll": 3}).poll_interval == pytest.approx(3 * 2304)


def test_low_remaining_quota_slows_down():
    full = plan(shops=5, remaining=9000, **BASE)
    low = plan(shops=5, remaining=1000, **BASE)  # under 20 % left: 2000 / 1000 = 2× slower
    assert full.poll_interval == 300
    assert low.poll_interval == pytest.approx(600)
    assert "1000 calls left" in low.reason


def test_exhausted_quota_never_stops_polling():
    p = plan(shops=5, remaining=0, **BASE)
    assert p.poll_interval == MAX_INTERVAL_SECONDS  # slowest, but still polling
    huge = plan(shops=100000, remaining=0, **BASE)
    budgeted = plan(shops=100000, **BASE).poll_interval
    assert huge.poll_interval == budgeted  # the budget's own interval, not slower still


def test_configured_slower_than_the_cap_is_kept():
    p = plan(shops=1, remaining=0, **{**BASE, "poll_interval": 7200})
    assert p.poll_interval == 7200


def test_no_shops():
    p = plan(shops=0, **BASE)
    assert p.planned_calls_per_day == 0 and p.poll_interval == 300


def test_a_poll_costs_at_least_its_two_calls():
    """The modified receipts and the canceled ones (asked for separately): never planned as one call."""
    assert plan(shops=100, **{**BASE, "calls_per_poll": 1}).poll_interval == pytest.approx(4608)
