"""Locks with a bounded wait, on redis-py's :class:`redis.lock.Lock` (token-checked release, Lua).

Two deliveries of one event (or two events for one product) may run at
once on two workers. The second waits for the first at most
``wait_seconds``; if it is still busy, :class:`Busy` is raised — not a
rejection: Dramatiq retries the message later, and by then the first has
linked the listing, so the second becomes an update (often with zero writes).

``lease_seconds`` bounds how long a holder can keep a lock. The lock itself
lives :data:`RENEWED_LEASE_SECONDS` and a keeper thread renews it while its
holder runs, so a worker that dies (SIGKILL, lost host) blocks the product
for seconds, not for the whole lease (found by the fault suite: a killed
worker's listing waited 15 minutes).

The lock is made with ``thread_local=False``: redis-py keeps a lock's token in
thread-local storage by default, so the keeper thread (another thread) could
not renew it — every renewal failed and a sync longer than 20 s lost its lock.
Sharing the token between the holder and its keeper is safe: only they use
this lock object.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from redis.exceptions import LockError, RedisError

from ..config.logging import get_logger

log = get_logger("etsyflow.catalogue")

#: A listing sync may download and upload 10 images: the lease matches the
#: actor's 15-minute time limit (seconds).
LISTING_LEASE_SECONDS = 15 * 60
#: How long a second delivery waits for the first (seconds).
DEFAULT_WAIT_SECONDS = 60.0
#: The lock's time to live in Redis, renewed every third of it while the holder runs (seconds).
RENEWED_LEASE_SECONDS = 20.0


class Busy(Exception):
    """Someone else holds the lock; retry later (Dramatiq backoff)."""


@contextmanager
def held(redis, key: str, *, lease_seconds: float = LISTING_LEASE_SECONDS,
         wait_seconds: float = DEFAULT_WAIT_SECONDS):
    ttl = min(float(lease_seconds), RENEWED_LEASE_SECONDS)
    lock = redis.lock(key, timeout=ttl, blocking=True, blocking_timeout=wait_seconds, sleep=0.05,
                      thread_local=False)
    if not lock.acquire():
        raise Busy(f"{key} is busy (waited {wait_seconds:.0f} s); will retry")
    stop = threading.Event()
    keeper = None
    if ttl < lease_seconds:
        keeper = threading.Thread(target=_keep, args=(lock, ttl, time.monotonic() + lease_seconds - ttl, stop),
                                  name=f"lock-keeper {key}", daemon=True)
        keeper.start()
    try:
        yield lock
    finally:
        stop.set()
        if keeper is not None:
            keeper.join(5)
        try:
            lock.release()
        except LockError:  # the lease ran out and someone else took it: nothing of ours to free
            pass


def _keep(lock, ttl: float, renew_until: float, stop: threading.Event) -> None:
    """Renew ``lock`` to ``ttl`` seconds every ``ttl / 3`` until stopped or ``renew_until`` (monotonic)."""
    while not stop.wait(ttl / 3):
        if time.monotonic() >= renew_until:
            return
        try:
            lock.reacquire()
        except LockError:  # lost (taken over after an expiry): the holder learns it on release
            log.warning("lock lost before its lease ended", key=lock.name)
            return
        except RedisError:  # Redis away for a moment: try again next beat, the TTL still runs
            continue
