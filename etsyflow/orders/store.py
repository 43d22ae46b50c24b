"""Per-shop order state in Redis: cursor, receipt fingerprints, poll lock, poll records.

Keys (``p`` = ``etsyflow``)::

    p:orders:<shop>:cursor   STR   newest Etsy modification time (epoch s) fully handled;
                                   only ever moves forward
    p:orders:<shop>:seen     HASH  receipt_id -> {"fp", "v", "snap"}: the state last
                                   published (fingerprint, version, compact snapshot)
    p:orders:<shop>:lock     STR   token of the one poll running for the shop (TTL)
    p:orders:<shop>:again    SET   poll modes asked for while the lock was held
    p:orders:<shop>:status   HASH  last poll/reconcile: times (epoch s), calls, counts,
                                   moving averages of calls per poll (for the scheduler)

``seen`` has no expiry: a receipt changed years later must still be an
``OrderUpdated``, not a second ``OrderDownloaded``. It holds digests, not
addresses or names (see :func:`etsyflow.schemas.orders.snapshot`).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from ..state import get_redis

_ADVANCE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local proposed = tonumber(ARGV[1])
if proposed > current then redis.call('SET', KEYS[1], ARGV[1]) return proposed end
return current
"""

_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_TAKE_AGAIN = """
local modes = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return modes
"""

#: Weight of the newest poll in the moving average of calls per poll.
EWMA_WEIGHT = 0.3


@dataclass(frozen=True)
class Seen:
    """What etsyflow last published for one receipt."""

    fingerprint: str
    version: int
    snapshot: dict


class OrderState:
    """The order state of one shop. ``redis`` defaults to the process-wide client."""

    def __init__(self, shop_id: int, redis=None, *, prefix: str = "etsyflow"):
        if redis is None:
            redis = get_redis()
        self.redis = redis
        self.shop_id = int(shop_id)
        base = f"{prefix}:orders:{self.shop_id}"
        self.keys = {name: f"{base}:{name}" for name in ("cursor", "seen", "lock", "again", "status")}
        self._advance = redis.register_script(_ADVANCE)
        self._extend = redis.register_script(_EXTEND)
        self._release = redis.register_script(_RELEASE)
        self._take_again = redis.register_script(_TAKE_AGAIN)
        self._token: str | None = None

    # -- cursor ----------------------------------------------------------------------
    def cursor(self) -> int | None:
        """Newest Etsy modification time (epoch s) handled, or None before the first poll."""
        raw = self.redis.get(self.keys["cursor"])
        return int(raw) if raw is not None else None

    def advance_cursor(self, modified_at: int) -> int:
        """Move the cursor forward to ``modified_at`` (never back); returns the cursor now."""
        return int(self._advance(keys=[self.keys["cursor"]], args=[int(modified_at)]))

    # -- receipts seen -----------------------------------------------------------------
    def seen_many(self, receipt_ids: list[int]) -> dict[int, Seen]:
        """The stored state of each of ``receipt_ids`` that has one (one round trip)."""
        if not receipt_ids:
            return {}
        values = self.redis.hmget(self.keys["seen"], [str(r) for r in receipt_ids])
        found: dict[int, Seen] = {}
        for receipt_id, raw in zip(receipt_ids, values):
            if raw is None:
                continue
            try:
                record = json.loads(raw)
                found[receipt_id] = Seen(record["fp"], int(record["v"]), record.get("snap") or {})
            except (ValueError, KeyError, TypeError):
                continue  # unreadable: treated as unseen, the next write repairs it
        return found

    def remember(self, receipt_id: int, fingerprint: str, version: int, snapshot: dict) -> None:
        """Record the state just published for ``receipt_id`` (call only after publishing)."""
        record = json.dumps({"fp": fingerprint, "v": int(version), "snap": snapshot}, separators=(",", ":"))
        self.redis.hset(self.keys["seen"], str(int(receipt_id)), record)

    def seen_count(self) -> int:
        return int(self.redis.hlen(self.keys["seen"]))

    # -- the one poll per shop ------------------------------------------------------------
    def acquire(self, ttl_seconds: float) -> bool:
        """Take the shop's poll lock for ``ttl_seconds``; False when another poll holds it."""
        token = secrets.token_hex(12)
        if self.redis.set(self.keys["lock"], token, nx=True, px=max(1, int(ttl_seconds * 1000))):
            self._token = token
            return True
        return False

    def extend(self, ttl_seconds: float) -> bool:
        """Keep the lock another ``ttl_seconds``; False when it was lost (expired and taken)."""
        if self._token is None:
            return False
        return bool(self._extend(keys=[self.keys["lock"]], args=[self._token, max(1, int(ttl_seconds * 1000))]))

    def release(self) -> None:
        if self._token is not None:
            self._release(keys=[self.keys["lock"]], args=[self._token])
            self._token = None

    def is_locked(self) -> bool:
        return bool(self.redis.exists(self.keys["lock"]))

    def ask_again(self, mode: str, ttl_seconds: float) -> None:
        """Note that a poll in ``mode`` was asked for while the lock was held."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(self.keys["again"], mode)
        pipe.pexpire(self.keys["again"], max(1, int(ttl_seconds * 1000)))
        pipe.execute()

    def take_again(self) -> list[str]:
        """The modes asked for meanwhile (and forget them)."""
        return sorted(m.decode() if isinstance(m, bytes) else m
                      for m in self._take_again(keys=[self.keys["again"]]))

    # -- records for operators and the scheduler -------------------------------------------
    def record(self, mode: str, *, calls: int, downloaded: int, updated: int, seconds: float,
               at: float | None = None) -> None:
        """Remember one finished poll (``seconds`` = how long it took)."""
        at = time.time() if at is None else at
        key = self.keys["status"]
        previous = self.redis.hget(key, f"{mode}_calls_avg")
        average = float(calls) if previous is None else (
            EWMA_WEIGHT * calls + (1 - EWMA_WEIGHT) * float(previous))
        self.redis.hincrby(key, f"{mode}_polls", 1)
        self.redis.hset(key, mapping={
            f"last_{mode}_at": repr(at), f"last_{mode}_calls": calls, f"last_{mode}_downloaded": downloaded,
            f"last_{mode}_updated": updated, f"last_{mode}_seconds": round(seconds, 3),
            f"{mode}_calls_avg": round(average, 3),
        })

    def status(self) -> dict:
        raw = self.redis.hgetall(self.keys["status"])
        out: dict = {}
        for k, v in raw.items():
            key = k.decode() if isinstance(k, bytes) else k
            text = v.decode() if isinstance(v, bytes) else v
            try:
                out[key] = float(text) if "." in text or "e" in text else int(text)
            except ValueError:
                out[key] = text
        out["cursor"] = self.cursor()
        out["known_receipts"] = self.seen_count()
        return out

    def calls_average(self, mode: str, default: float) -> float:
        raw = self.redis.hget(self.keys["status"], f"{mode}_calls_avg")
        try:
            return max(1.0, float(raw)) if raw is not None else default
        except ValueError:
            return default
