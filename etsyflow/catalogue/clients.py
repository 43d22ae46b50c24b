"""The two Etsy clients a catalogue actor uses for one shop.

``client`` resends after transient failures (reads and idempotent writes:
PUT, PATCH, DELETE). ``once`` never resends: for creates (new listing,
image upload, shipping profile, destination, return policy) a resend after
a lost answer is how duplicates are made; the actor is retried instead,
and its intent records find what the lost call created.
"""

from __future__ import annotations


def clients(shop_id: int):
    from ..etsy.client import EtsyClient

    return EtsyClient(shop_id), EtsyClient(shop_id, max_attempts=1)
