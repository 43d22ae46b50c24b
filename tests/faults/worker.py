"""Dramatiq entry module of the fault suite: ``python -m dramatiq tests.faults.worker``.

The production worker (``etsyflow.workers.main``) with test-sized retry
timings, so a run takes seconds instead of hours. The broker's recovery
(heartbeat, return of a dead worker's messages) is the production one:

- ``FAULTS_MIN_BACKOFF_MS`` / ``FAULTS_MAX_BACKOFF_MS`` / ``FAULTS_MAX_RETRIES``:
  retry backoff of every actor (production: 2 s … 10 min, 12 retries);
- ``FAULTS_PARCEL_LOCK_SECONDS``: lifetime of a parcel's lock (production:
  120 s, the longest a shipment write can take with a 20 s Etsy timeout; the
  suite's Etsy timeout is 1 s). A worker killed while sending a parcel holds
  it this long before the redelivered message may go on.
"""

import os

from etsyflow.fulfilment.ledger import ParcelLedger
from etsyflow.workers import options

ParcelLedger.__init__.__kwdefaults__["lock_seconds"] = float(os.environ.get("FAULTS_PARCEL_LOCK_SECONDS", "20"))

for _options in options.ACTOR_OPTIONS.values():
    _options["min_backoff"] = int(os.environ.get("FAULTS_MIN_BACKOFF_MS", "200"))
    _options["max_backoff"] = int(os.environ.get("FAULTS_MAX_BACKOFF_MS", "2000"))
    _options["max_retries"] = int(os.environ.get("FAULTS_MAX_RETRIES", "30"))

from etsyflow.workers.main import actors, broker  # noqa: E402  (after the options are set)

__all__ = ["actors", "broker"]
