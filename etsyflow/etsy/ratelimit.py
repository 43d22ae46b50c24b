"""Etsy's app quota, shared by every worker process and thread through Redis.

Two budgets: at most ``ETSY_RATE_PER_SECOND`` calls in *any* second, and at
most ``ETSY_RATE_PER_DAY`` in any rolling 24 h, across the deployment. Each
call takes a slot before it goes out (:meth:`RateLimiter.acquire`, waiting a
bounded time when the second is full) and gives it back when the answer is in
(:meth:`RateLimiter.release`).

Why a hand-written Lua script and not ``dramatiq.rate_limits``:
``WindowRateLimiter`` counts calls in wall-clock second buckets
(``key@<int(time)>``), so N calls at x.99 s and N more at (x+1).01 s pass
although 2N land inside one second, and a call granted at x.999 s that reaches
Etsy at (x+1).002 s is counted by Etsy in the next second: both give 429s at
full speed. It also cannot say how long to wait (callers would poll), and a
rolling-day window would be 86,400 one-second keys summed on every call. The
script below keeps a sliding log instead (one sorted set per budget) and is
atomic in Redis, so it is exact across processes:

* a slot counts for one second from the moment Etsy counts the call, which
  is when the request reaches Etsy: after we send it, and no later than its
  answer comes back. While the answer is out, the slot is "in flight" and
  holds its place; when the answer is in, the slot counts for one second
  from the earlier of "sent + :data:`TRANSIT_MS`" and the answer. Etsy's
  time to work on the call (a quarter of a second for a listing with
  images) does not hold the slot. (This module once counted the second from
  the answer: every slot was then held 1 s + the call's duration, and a
  burst of listing calls used 0.80 of the quota.) ``TRANSIT_MS`` bounds how
  much later one request may reach Etsy than another sent after it (jitter
  on a kept-alive connection). A request slower than that to arrive (Etsy
  queueing under load) may let Etsy see one call too many in a second: its
  429 blocks every worker for the ``retry-after`` (below), and doubles the
  margin for every worker for :data:`WIDENED_TTL_MS` (up to counting from
  the answer, as before), so a loaded Etsy gets a few 429s, not a stream;
* when the second is full the script answers how many ms until the oldest slot
  frees, so waiters sleep exactly that long;
* the time is Redis's (``TIME``), one clock for every worker host.

Etsy's headers adapt the budgets: ``x-limit-per-second`` / ``x-limit-per-day``
lower the effective limits when Etsy grants less than configured, and
``x-remaining-today`` is recorded for :func:`remaining_today`. A 429 blocks
every worker for its ``retry-after`` (daily 429s until the quota returns),
so the deployment stops calling instead of burning retries.
"""

from __future__ import annotations

import random
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Mapping

from ..config import get_settings
from ..state import get_redis
from . import metrics
from .errors import RateLimited

#: The longest one wait for a per-second slot of Etsy's rate limit (seconds). The
#: one place this bound is written: the limiter, the transport, the client and the
#: code that works out how long an unanswered write may still land
#: (:func:`etsyflow.etsy.transport.longest_call_seconds`) read it.
MAX_RATE_WAIT_SECONDS = 10.0

DAY_MS = 86_400_000
#: How much later (ms) a request may reach Etsy than one sent after it (network
#: jitter on a kept-alive connection). A slot counts for a second from
#: sent + TRANSIT_MS, or from the answer when that came first.
TRANSIT_MS = 40
#: How long (ms) a margin widened by a per-second 429 stays widened (each 429 renews it).
WIDENED_TTL_MS = 600_000

#: How long (ms) a Etsy-reported limit or remaining-today figure is trusted.
REPORTED_TTL_MS = 3_600_000
REMAINING_TTL_MS = 600_000

_ACQUIRE = """
-- KEYS: 1 second log, 2 day log, 3 second block, 4 day block, 5 reported limit/s, 6 reported limit/day
-- ARGV: 1 member, 2 limit/s (configured), 3 limit/day (configured), 4 window ms, 5 in-flight ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_second = tonumber(ARGV[2])
local per_day = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local reported = tonumber(redis.call('GET', KEYS[5]) or '')
if reported and reported > 0 and reported < per_second then per_second = reported end
reported = tonumber(redis.call('GET', KEYS[6]) or '')
if reported and reported > 0 and reported < per_day then per_day = reported end
local blocked = tonumber(redis.call('GET', KEYS[4]) or '0')
if blocked > now then return {2, blocked - now, per_second, per_day} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 86400000)
if redis.call('ZCARD', KEYS[2]) >= per_day then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {2, math.max(1000, tonumber(oldest[2]) + 86400000 - now), per_second, per_day}
end
blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
if blocked > now then return {1, blocked - now, per_second, per_day} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= per_second then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  if oldest > now then return {1, 25, per_second, per_day} end  -- all in flight: look again soon
  return {1, math.max(1, oldest + window - now + 1), per_second, per_day}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], window + tonumber(ARGV[5]))
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], 86400000)
return {0, now, per_second, per_day}
"""

_RELEASE = """
-- KEYS: 1 second log, 2 widened transit margin; ARGV: 1 member, 2 ms since the call was sent, 3 TRANSIT_MS
-- The call reached Etsy by sent + the margin, and by now (its answer is in).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local transit = tonumber(redis.call('GET', KEYS[2]) or '') or tonumber(ARGV[3])
local reached = now - math.max(0, tonumber(ARGV[2]) - transit)
redis.call('ZADD', KEYS[1], 'XX', reached, ARGV[1])
return reached
"""

_WIDEN = """
-- KEYS: 1 widened transit margin; ARGV: 1 TRANSIT_MS, 2 cap (ms), 3 ttl (ms)
local current = tonumber(redis.call('GET', KEYS[1]) or '') or tonumber(ARGV[1])
local widened = math.min(tonumber(ARGV[2]), current * 2)
redis.call('SET', KEYS[1], widened, 'PX', tonumber(ARGV[3]))
return widened
"""

_BLOCK = """
-- extend a block (never shorten it): KEYS[1] block key, ARGV[1] ms from now
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return until_ms
"""


@dataclass(frozen=True)
class Slot:
    """One granted call; give it back with :meth:`RateLimiter.release`."""

    member: str
    granted_at_ms: int
    waited_seconds: float
    #: ``time.monotonic()`` when the slot was granted (the call goes out right after).
    granted_monotonic: float = 0.0


class RateLimiter:
    """The deployment-wide Etsy quota.

    ``max_wait_seconds`` bounds how long :meth:`acquire` sleeps for a per-second
    slot; beyond it RateLimited(daily=False) is raised for Dramatiq to retry.
    ``safety_ms`` widens the one-second window a little (ms rounding, Etsy's
    own clock granularity).
    """

    def __init__(self, redis=None, settings=None, *, prefix: str = "etsyflow",
                 max_wait_seconds: float = MAX_RATE_WAIT_SECONDS, safety_ms: int = 10):
        if redis is None:
            redis = get_redis()
        if settings is None:
            settings = get_settings()
        self.redis = redis
        self.per_second = int(settings.etsy_rate_per_second)
        self.per_day = int(settings.etsy_rate_per_day)
        self.max_wait_seconds = float(max_wait_seconds)
        self.window_ms = 1000 + int(safety_ms)
        self.inflight_ms = int((float(settings.etsy_timeout_seconds) + 5) * 1000)
        base = f"{prefix}:etsy:ratelimit"
        self.keys = {
            "second": f"{base}:second",
            "day": f"{base}:day",
            "block_second": f"{base}:block:second",
            "block_day": f"{base}:block:day",
            "limit_second": f"{base}:reported:limit_per_second",
            "limit_day": f"{base}:reported:limit_per_day",
            "remaining_today": f"{base}:reported:remaining_today",
            "transit": f"{base}:transit_ms",
        }
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._block = redis.register_script(_BLOCK)
        self._widen = redis.register_script(_WIDEN)

    # -- taking and giving back slots ------------------------------------------------
    def acquire(self, *, max_wait_seconds: float | None = None, operation: str | None = None,
                shop_id: int | None = None) -> Slot:
        """Take one call slot, sleeping (bounded) while this second is full.

        ``shop_id`` (when the call is made for a shop) is kept in the slot's
        name, so :meth:`used_today_by_shop` can tell each shop's share.

        Raises RateLimited(daily=True) at once when the day's budget is spent
        (or Etsy said so), RateLimited(daily=False) when the wait would exceed
        ``max_wait_seconds``.
        """
        limit = self.max_wait_seconds if max_wait_seconds is None else max_wait_seconds
        started = time.monotonic()
        member = f"{int(shop_id) if shop_id else 0}:{secrets.token_hex(8)}"
        k = self.keys
        while True:
            code, value, _, per_day = self._acquire(
                keys=[k["second"], k["day"], k["block_second"], k["block_day"], k["limit_second"], k["limit_day"]],
                args=[member, self.per_second, self.per_day, self.window_ms, self.inflight_ms],
            )
            waited = time.monotonic() - started
            if code == 0:
                metrics.record_rate_wait(waited)
                return Slot(member, int(value), waited, time.monotonic())
            wait = int(value) / 1000.0
            if code == 2:
                metrics.record_rate_limited("daily", "local")
                raise RateLimited(
                    f"daily Etsy quota ({per_day} calls per rolling 24 h) is used up; "
                    f"next call possible in {wait:.0f} s",
                    retry_after_seconds=wait, daily=True, operation=operation)
            if waited + wait > limit:
                metrics.record_rate_limited("second", "local")
                raise RateLimited(
                    f"per-second Etsy quota busy for {wait:.2f} s, longer than the {limit:g} s a call may wait",
                    retry_after_seconds=wait, daily=False, operation=operation)
            # A little jitter so a crowd of waiters does not hit Redis in one instant.
            time.sleep(wait + random.uniform(0, 0.002))

    def release(self, slot: Slot) -> None:
        """The answer is in: the slot counts for one second from when the call reached Etsy
        (sent + :data:`TRANSIT_MS`, or now if sooner)."""
        since_sent_ms = max(0, int((time.monotonic() - slot.granted_monotonic) * 1000))
        self._release(keys=[self.keys["second"], self.keys["transit"]], args=[slot.member, since_sent_ms, TRANSIT_MS])

    @contextmanager
    def slot(self, **kwargs) -> Iterator[Slot]:
        granted = self.acquire(**kwargs)
        try:
            yield granted
        finally:
            self.release(granted)

    # -- adapting to what Etsy says ----------------------------------------------------
    def observe(self, headers: Mapping[str, str]) -> None:
        """Read Etsy's ``x-limit-*`` / ``x-remaining-*`` headers from any answer."""
        values = {name: _int(headers.get(name)) for name in (
            "x-limit-per-second", "x-limit-per-day", "x-remaining-today")}
        pipe = self.redis.pipeline(transaction=False)
        if values["x-limit-per-second"]:
            pipe.set(self.keys["limit_second"], values["x-limit-per-second"], px=REPORTED_TTL_MS)
        if values["x-limit-per-day"]:
            pipe.set(self.keys["limit_day"], values["x-limit-per-day"], px=REPORTED_TTL_MS)
        if values["x-remaining-today"] is not None:
            pipe.set(self.keys["remaining_today"], values["x-remaining-today"], px=REMAINING_TTL_MS)
        if len(pipe):
            pipe.execute()

    def block(self, *, seconds: float, daily: bool) -> None:
        """Etsy answered 429: stop every worker for ``seconds``."""
        key = self.keys["block_day" if daily else "block_second"]
        self._block(keys=[key], args=[max(1, int(seconds * 1000))])
        if not daily:  # a call reached Etsy later than the margin allowed: widen it for a while
            self._widen(keys=[self.keys["transit"]], args=[TRANSIT_MS, self.inflight_ms, WIDENED_TTL_MS])
        metrics.record_rate_limited("daily" if daily else "second", "etsy")

    # -- reading the budget --------------------------------------------------------------
    def effective_limits(self) -> tuple[int, int]:
        """(calls per second, calls per rolling day) in force: configured, lowered by Etsy's headers."""
        reported_second, reported_day = self.redis.mget(self.keys["limit_second"], self.keys["limit_day"])
        per_second, per_day = self.per_second, self.per_day
        if _int(reported_second):
            per_second = min(per_second, _int(reported_second))
        if _int(reported_day):
            per_day = min(per_day, _int(reported_day))
        return per_second, per_day

    def used_today(self) -> int:
        """Calls made in the last 24 h (this deployment)."""
        now_ms = _redis_ms(self.redis)
        return int(self.redis.zcount(self.keys["day"], now_ms - DAY_MS, "+inf"))

    def used_today_by_shop(self) -> dict[int, int]:
        """Calls made in the last 24 h per shop id (0: calls made for no shop, e.g. token grants)."""
        now_ms = _redis_ms(self.redis)
        counts: dict[int, int] = {}
        for member in self.redis.zrangebyscore(self.keys["day"], now_ms - DAY_MS, "+inf"):
            member = member.decode() if isinstance(member, bytes) else member
            head, sep, _ = member.partition(":")
            shop = int(head) if sep and head.isdigit() else 0
            counts[shop] = counts.get(shop, 0) + 1
        return counts

    def remaining_today(self) -> int:
        """Calls left in the rolling day: the local count, or Etsy's own figure when lower."""
        _, per_day = self.effective_limits()
        local = per_day - self.used_today()
        reported = _int(self.redis.get(self.keys["remaining_today"]))
        if reported is not None:
            local = min(local, reported)
        blocked = _int(self.redis.get(self.keys["block_day"]))
        if blocked and blocked > _redis_ms(self.redis):
            return 0
        return max(0, local)

    def status(self) -> dict:
        """A summary for ``etsyflow status``: limits, use and blocks (seconds)."""
        per_second, per_day = self.effective_limits()
        now_ms = _redis_ms(self.redis)
        block_second = _int(self.redis.get(self.keys["block_second"])) or 0
        block_day = _int(self.redis.get(self.keys["block_day"])) or 0
        return {
            "configured_per_second": self.per_second,
            "configured_per_day": self.per_day,
            "effective_per_second": per_second,
            "effective_per_day": per_day,
            "used_today": self.used_today(),
            "remaining_today": self.remaining_today(),
            "etsy_remaining_today": _int(self.redis.get(self.keys["remaining_today"])),
            "blocked_seconds": max(0.0, (block_second - now_ms) / 1000.0),
            "daily_blocked_seconds": max(0.0, (block_day - now_ms) / 1000.0),
        }


def remaining_today(redis=None, settings=None, *, prefix: str = "etsyflow") -> int:
    """Etsy calls left in the rolling day for the whole deployment (``etsyflow status``, scheduler)."""
    return RateLimiter(redis, settings, prefix=prefix).remaining_today()


def _int(value) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _redis_ms(redis) -> int:
    seconds, micros = redis.time()
    return int(seconds) * 1000 + int(micros) // 1000
