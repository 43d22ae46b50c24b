"""A listing sync that outlives its lock's lease keeps the product locked: a
second ListingReady for the same product waits, then updates the one listing."""

from __future__ import annotations

import time

import pytest

from etsyflow.catalogue import locks

from .helpers import product, synced_template

pytestmark = pytest.mark.integration

#: Seconds the image host takes per image; three images outlast the lock's lease.
SLOW_SECONDS = 8


def test_a_sync_longer_than_the_lease_keeps_a_second_delivery_out(catalogue):
    synced_template(catalogue)
    data = product(catalogue, product_id="P-SLOW", images=0)
    data["images"] = [{"url": f"{catalogue.images.url}/slow/{SLOW_SECONDS}/{n}.png", "alt_text": f"view {n}"}
                      for n in (1, 2, 3)]
    assert 3 * SLOW_SECONDS > locks.RENEWED_LEASE_SECONDS + 2  # the first sync outlives the lease
    started = time.monotonic()
    first = catalogue.publish("ListingReady", data)
    time.sleep(1)  # the first holds the lock (it is downloading); the second arrives now
    second = catalogue.publish("ListingReady", data)
    answers = [catalogue.outcome(e, ("ListingPublished", "ListingRejected", "EventRejected"), timeout=120)
               for e in (first, second)]
    assert [a["type"] for a in answers] == ["ListingPublished", "ListingPublished"], answers
    assert time.monotonic() - started > locks.RENEWED_LEASE_SECONDS
    assert len(catalogue.listings()) == 1, [l["listing_id"] for l in catalogue.listings()]
    assert answers[0]["data"]["listing_id"] == answers[1]["data"]["listing_id"]
