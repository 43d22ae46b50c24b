"""Per-app rate limiting as Etsy applies it: a per-second and a per-day quota.

Hand-written rather than borrowed from a library because the sandbox must also
*measure* what it limits (peak calls in any 1 s window, 429 counts) and answer
Etsy's exact headers; the whole thing is a few deques under a lock.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

DAY_SECONDS = 86400


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None  # "second" or "day" when refused
    retry_after: int  # whole seconds, 0 when allowed
    limit_second: int
    remaining_second: int
    limit_day: int
    remaining_day: int

    def headers(self) -> dict[str, str]:
        headers = {
            "x-limit-per-second": str(self.limit_second),
            "x-remaining-this-second": str(self.remaining_second),
            "x-limit-per-day": str(self.limit_day),
            "x-remaining-today": str(self.remaining_day),
        }
        if not self.allowed:
            headers["retry-after"] = str(self.retry_after)
        return headers


class RateLimiter:
    """Thread-safe limiter for one app. ``window`` is "sliding" (no more than
    ``per_second`` calls in any 1 s interval) or "fixed" (per wall-clock second)."""

    def __init__(self, per_second: int, per_day: int, window: str = "sliding", clock=time.time):
        self._lock = threading.Lock()
        self._clock = clock
        self.per_second = per_second
        self.per_day = per_day
        self.window = window
        self._recent: deque[float] = deque()  # accepted calls in the last second
        self._fixed_second = -1
        self._fixed_count = 0
        self._day: deque[list] = deque()  # [int second, count] of accepted calls in the last day
        self._day_total = 0
        self.calls = 0
        self.accepted = 0
        self.refused_second = 0
        self.refused_day = 0
        self.peak_per_second = 0

    def configure(self, per_second: int | None = None, per_day: int | None = None,
                  window: str | None = None) -> None:
        with self._lock:
            if per_second is not None:
                self.per_second = per_second
            if per_day is not None:
                self.per_day = per_day
            if window is not None:
                self.window = window

    def reset(self) -> None:
        with self._lock:
            self._recent.clear()
            self._day.clear()
            self._day_total = 0
            self._fixed_second, self._fixed_count = -1, 0
            self.calls = self.accepted = self.refused_second = self.refused_day = 0
            self.peak_per_second = 0

    def _expire(self, now: float) -> None:
        recent = self._recent
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        day = self._day
        while day and day[0][0] <= now - DAY_SECONDS:
            self._day_total -= day.popleft()[1]

    def _second_count(self, now: float) -> int:
        if self.window == "fixed":
            return self._fixed_count if self._fixed_second == int(now) else 0
        return len(self._recent)

    def acquire(self) -> Decision:
        """Count one call if the quota allows it; say so either way."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            self.calls += 1
            in_second = self._second_count(now)
            if self._day_total >= self.per_day:
                self.refused_day += 1
                oldest = self._day[0][0] if self._day else int(now)
                retry = max(1, min(DAY_SECONDS, math.ceil(oldest + DAY_SECONDS - now)))
                return self._decision(False, "day", retry, in_second)
            if in_second >= self.per_second:
                self.refused_second += 1
                if self.window == "fixed":
                    retry = 1
                else:
                    retry = max(1, math.ceil(self._recent[0] + 1.0 - now)) if self._recent else 1
                return self._decision(False, "second", retry, in_second)
            # Accept.
            self.accepted += 1
            self._recent.append(now)
            second = int(now)
            if self._fixed_second == second:
                self._fixed_count += 1
            else:
                self._fixed_second, self._fixed_count = second, 1
            if self._day and self._day[-1][0] == second:
                self._day[-1][1] += 1
            else:
                self._day.append([second, 1])
            self._day_total += 1
            if len(self._recent) > self.peak_per_second:
                self.peak_per_second = len(self._recent)
            return self._decision(True, None, 0, self._second_count(now))

    def _decision(self, allowed: bool, reason, retry: int, in_second: int) -> Decision:
        return Decision(
            allowed=allowed,
            reason=reason,
            retry_after=retry,
            limit_second=self.per_second,
            remaining_second=max(0, self.per_second - in_second),
            limit_day=self.per_day,
            remaining_day=max(0, self.per_day - self._day_total),
        )

    def snapshot(self) -> Decision:
        """Current headers without counting a call (for answers that are not counted)."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            return self._decision(True, None, 0, self._second_count(now))

    def stats(self) -> dict:
        with self._lock:
            return {
                "per_second": self.per_second,
                "per_day": self.per_day,
                "window": self.window,
                "calls": self.calls,
                "accepted": self.accepted,
                "refused_per_second": self.refused_second,
                "refused_per_day": self.refused_day,
                "rate_limited_429": self.refused_second + self.refused_day,
                "peak_per_second": self.peak_per_second,
                "used_today": self._day_total,
            }
