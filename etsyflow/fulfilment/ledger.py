"""Exactly-once bookkeeping: one record and one lock per parcel.

A parcel is (shop, receipt, normalised tracking number) — or, for a parcel
without tracking, its ``parcel_id`` (or "untracked"). Whatever event id it
arrives under, a parcel has one key::

    etsyflow:fulfilment:parcel:<shop>:<receipt>:<ref>   HASH  the record
    etsyflow:fulfilment:lock:<shop>:<receipt>:<ref>     STR   redis-py Lock token

``<ref>`` is ``T<TRACKING>`` (letters and digits, upper case), ``P<sha256 of
parcel_id, 32 hex>`` or ``U`` (untracked, no parcel id).

Record fields: ``state`` (``pending`` while a write's outcome is unknown,
``confirmed`` once Etsy has the shipment), ``event_id`` (first event that
wrote), ``attempts``, ``attempted_at`` / ``attempt_ended_at`` / ``confirmed_at``
(epoch seconds), ``before_ids`` (the receipt's shipment ids before the
last write, JSON; ``null`` when the write went out without reading the
receipt), ``receipt_shipping_id``, ``result`` (the ShipmentConfirmed data as
JSON). Records live :data:`RECORD_TTL_SECONDS`, longer than any redelivery or
upstream resend: a new parcel is written without reading the receipt first,
so the record is what tells a parcel already sent from a new one.

The lock is redis-py's :class:`redis.lock.Lock` (a token compared and deleted
by a Lua script on release): two deliveries of one parcel never write at once.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from redis.exceptions import LockError

from ..state import get_redis

PREFIX = "etsyflow:fulfilment"
#: How long a parcel record is kept (seconds): longer than any redelivery or upstream resend.
RECORD_TTL_SECONDS = 180 * 24 * 3600
#: Lock lifetime (seconds). The work under it is bounded well below: one
#: receipt read (the client's 30 s budget) and one single-attempt write
#: (ETSY_TIMEOUT_SECONDS plus a 10 s rate-limit wait); the lock is renewed
#: just before the write.
LOCK_SECONDS = 120.0
#: How long a second delivery waits for the lock (seconds) before it lets
#: Dramatiq retry it later.
LOCK_WAIT_SECONDS = 15.0

PENDING = "pending"
CONFIRMED = "confirmed"


class ParcelBusy(Exception):
    """Another worker holds this parcel's lock; the message is retried later."""


def parcel_ref(tracking_key: str, parcel_id: str | None = None) -> str:
    if tracking_key:
        return "T" + tracking_key
    if parcel_id:
        return "P" + hashlib.sha256(parcel_id.encode("utf-8")).hexdigest()[:32]
    return "U"


@dataclass(frozen=True)
class ParcelRecord:
    state: str
    event_id: str | None
    attempts: int
    attempted_at: float | None
    attempt_ended_at: float | None
    confirmed_at: float | None
    receipt_shipping_id: int | None
    result: dict | None
    #: None: the write went out without a read of the receipt (its shipments before are unknown).
    before_ids: frozenset | None = frozenset()

    @property
    def confirmed(self) -> bool:
        return self.state == CONFIRMED

    @property
    def pending(self) -> bool:
        return self.state == PENDING


class ParcelLedger:
    """Records and locks of parcels in Redis (``redis`` defaults to the process-wide client)."""

    def __init__(self, redis=None, *, lock_seconds: float = LOCK_SECONDS, lock_wait_seconds: float = LOCK_WAIT_SECONDS):
        if redis is None:
            redis = get_redis()
        self.redis = redis
        self.lock_seconds = lock_seconds
        self.lock_wait_seconds = lock_wait_seconds

    @staticmethod
    def record_key(shop_id: int, receipt_id: int, ref: str) -> str:
        return f"{PREFIX}:parcel:{int(shop_id)}:{int(receipt_id)}:{ref}"

    @staticmethod
    def lock_key(shop_id: int, receipt_id: int, ref: str) -> str:
        return f"{PREFIX}:lock:{int(shop_id)}:{int(receipt_id)}:{ref}"

    def get(self, key: str) -> ParcelRecord | None:
        raw = self.redis.hgetall(key)
        if not raw:
            return None
        h = {k.decode(): v.decode() for k, v in raw.items()}
        result = None
        if h.get("result"):
            try:
                result = json.loads(h["result"])
            except ValueError:
                result = None
        try:
            listed = json.loads(h.get("before_ids") or "[]")
            before = None if listed is None else frozenset(listed)
        except (TypeError, ValueError):
            before = None
        return ParcelRecord(
            state=h.get("state", PENDING), event_id=h.get("event_id"), attempts=int(h.get("attempts") or 0),
            attempted_at=_float(h.get("attempted_at")), attempt_ended_at=_float(h.get("attempt_ended_at")),
            confirmed_at=_float(h.get("confirmed_at")), receipt_shipping_id=_int(h.get("receipt_shipping_id")),
            result=result, before_ids=before,
        )

    def lock(self, shop_id: int, receipt_id: int, ref: str):
        """A held lock for the parcel (a context manager), or :class:`ParcelBusy` after the bounded wait."""
        lock = self.redis.lock(self.lock_key(shop_id, receipt_id, ref), timeout=self.lock_seconds,
                               blocking=True, blocking_timeout=self.lock_wait_seconds, sleep=0.05)
        if not lock.acquire():
            raise ParcelBusy(f"parcel {ref} of receipt {receipt_id} is being sent by another worker; "
                             f"waited {self.lock_wait_seconds:.0f} s")
        return _Held(lock)

    def mark_pending(self, key: str, event_id: str, before_ids=None) -> None:
        """Before a write: the outcome is unknown until :meth:`mark_confirmed` or :meth:`forget`.

        ``before_ids``: the receipt's shipment ids before the write, so a shipment
        that Etsy recorded without our tracking code can still be told apart;
        None when the receipt was not read.
        """
        now = repr(time.time())
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(key, "event_id", event_id)
        pipe.hset(key, mapping={"state": PENDING, "attempted_at": now,
                                "before_ids": json.dumps(None if before_ids is None else sorted(before_ids))})
        pipe.hdel(key, "attempt_ended_at")
        pipe.hincrby(key, "attempts", 1)
        pipe.expire(key, RECORD_TTL_SECONDS)
        pipe.execute()

    def mark_attempt_ended(self, key: str) -> None:
        """A write failed in a way that may still have reached Etsy (timeout, 5xx)."""
        self.redis.hset(key, "attempt_ended_at", repr(time.time()))

    def mark_confirmed(self, key: str, event_id: str, result: dict) -> None:
        mapping = {"state": CONFIRMED, "confirmed_at": repr(time.time()),
                   "result": json.dumps(result, sort_keys=True, default=str)}
        if result.get("receipt_shipping_id") is not None:
            mapping["receipt_shipping_id"] = str(result["receipt_shipping_id"])
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(key, "event_id", event_id)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, RECORD_TTL_SECONDS)
        pipe.execute()

    def forget(self, key: str) -> None:
        """Etsy refused the parcel for good: nothing to remember (a corrected resend may try again)."""
        self.redis.delete(key)


class _Held:
    """A held redis-py lock: ``renew()`` before a slow step; released on exit (never raises there)."""

    def __init__(self, lock):
        self._lock = lock

    def renew(self) -> bool:
        """Reset the lock to its full lifetime; False if it was lost (expired and taken)."""
        try:
            self._lock.reacquire()
            return True
        except LockError:
            return False

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._lock.release()
        except LockError:
            pass  # expired meanwhile: nothing to release


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
