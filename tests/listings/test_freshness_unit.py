"""The time of the last event applied per SKU and per product only moves forward."""

from __future__ import annotations

import fakeredis

from etsyflow.catalogue import freshness

OLD, NEW = "2026-12-01T10:00:00.000Z", "2026-12-01T10:00:05.000Z"


def test_a_newer_event_supersedes_and_an_older_one_never_moves_the_time_back():
    redis = fakeredis.FakeRedis()
    freshness.record_stock(redis, 7, ["A", "B"], NEW)
    freshness.record_stock(redis, 7, ["A", "B", "C"], OLD)  # late: only C, never seen, takes it
    assert freshness.stale_stock(redis, 7, "A", OLD).startswith("superseded")
    assert freshness.stale_stock(redis, 7, "A", NEW) is None
    assert freshness.stale_stock(redis, 7, "C", OLD) is None
    assert freshness.stale_stock(redis, 7, "C", "2026-12-01T09:00:00.000Z").startswith("superseded")


def test_products_too_and_events_without_a_time_change_nothing():
    redis = fakeredis.FakeRedis()
    freshness.record_product(redis, 7, "P1", None)
    assert freshness.stale_product(redis, 7, "P1", OLD) is None
    freshness.record_product(redis, 7, "P1", NEW)
    freshness.record_product(redis, 7, "P1", OLD)
    assert freshness.stale_product(redis, 7, "P1", OLD).startswith("superseded")
    assert freshness.stale_product(redis, 7, "P2", OLD) is None
