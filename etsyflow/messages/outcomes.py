"""What domain code says about an event it cannot finish now, without knowing Dramatiq.

Domain packages (catalogue, orders, fulfilment, shops) raise these; the
failure table in :mod:`etsyflow.workers.failures` turns them into queue
actions. Etsy's own errors (:mod:`etsyflow.etsy.errors`) are mapped there too.
"""

from __future__ import annotations


class Refused(Exception):
    """The event is refused for good; ``reason`` is written for a merchandiser.

    Answered with the event type's rejection (``ListingRejected`` …, see
    :mod:`.contract`); never retried.
    """

    def __init__(self, reason: str, **details):
        super().__init__(reason)
        self.reason = reason
        self.details = details


class RetryLater(Exception):
    """Run the event again in ``seconds`` (a float, > 0); not a failure, but it
    counts as one of the actor's retries."""

    def __init__(self, seconds: float, reason: str = ""):
        super().__init__(reason or f"retry in {seconds:.1f} s")
        self.seconds = max(float(seconds), 0.1)
        self.reason = reason
