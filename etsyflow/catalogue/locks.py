"""Locks with a bounded wait, on redis-py's :class:`redis.lock.Lock` (token-checked release, Lua).

Two deliveries of one event (or two events for one product) may run at
once on two workers. The second waits for the first at most
``wait_seconds``; if it is still busy, :class:`Busy` is raised — not a
rejection: Dramatiq retries the message later, and by then the first has
linked the listing, so the second becomes an update (often with zero writes).

``lease_seconds`` bounds how long a dead worker can hold a lock.
"""

from __future__ import annotations

from contextlib import contextmanager

from redis.exceptions import LockError

#: A listing sync may download and upload 10 images: the lease matches the
#: actor's 15-minute time limit (seconds).
LISTING_LEASE_SECONDS = 15 * 60
#: How long a second delivery waits for the first (seconds).
DEFAULT_WAIT_SECONDS = 60.0


class Busy(Exception):
    """Someone else holds the lock; retry later (Dramatiq backoff)."""


@contextmanager
def held(redis, key: str, *, lease_seconds: float = LISTING_LEASE_SECONDS,
         wait_seconds: float = DEFAULT_WAIT_SECONDS):
    lock = redis.lock(key, timeout=lease_seconds, blocking=True, blocking_timeout=wait_seconds, sleep=0.05)
    if not lock.acquire():
        raise Busy(f"{key} is busy (waited {wait_seconds:.0f} s); will retry")
    try:
        yield lock
    finally:
        try:
            lock.release()
        except LockError:  # the lease ran out and someone else took it: nothing of ours to free
            pass
