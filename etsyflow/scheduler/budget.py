"""How often to poll so that many shops fit in one daily Etsy quota.

Pure arithmetic, no I/O. All intervals are seconds, quotas calls per rolling 24 h.

Polling may plan to use ``share`` of the daily quota (``POLL_BUDGET_SHARE``,
default half: the rest is for listings, stock and shipments). Reconciles get
at most a quarter of that; polls the rest. A shop polled every ``I`` seconds
at ``c`` calls a poll costs ``c × 86400 / I`` calls a day, so::

    reconcile = max(configured, shops × c_reconcile × 86400 / (budget / 4))
    poll      = max(configured, shops × c_poll × 86400 / (budget − reconcile cost))

When the quota left today (the rate limiter's count, or Etsy's own
``x-remaining-today`` when lower) falls under ``LOW_WATER`` of the day's
quota, both intervals stretch by ``LOW_WATER × per_day / remaining`` — slower
as it drains — but this slow-down never goes beyond ``MAX_INTERVAL_SECONDS``
for polls (a day for reconciles), or the budgeted interval when that is
longer: polling slows down, it never stops.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_SECONDS = 86400
#: Below this share of the daily quota left, polling slows down.
LOW_WATER = 0.2
#: The slowest the scheduler ever polls (seconds) unless configured slower.
MAX_INTERVAL_SECONDS = 3600.0
#: Share of the polling budget that reconciles may take.
RECONCILE_SHARE = 0.25
#: The fewest calls a poll costs: the modified receipts, then the canceled ones asked for
#: separately (Etsy leaves them out of the unfiltered list).
MIN_CALLS_PER_POLL = 2.0


@dataclass(frozen=True)
class Plan:
    poll_interval: float
    reconcile_interval: float
    planned_calls_per_day: float
    reason: str


def plan(*, shops: int, poll_interval: float, reconcile_interval: float, per_day: int, share: float,
         calls_per_poll: float = MIN_CALLS_PER_POLL, calls_per_reconcile: float = 2.0,
         remaining: int | None = None) -> Plan:
    """The intervals (seconds) for ``shops`` shops within the quota; see the module docstring."""
    shops = max(0, int(shops))
    per_day = max(1, int(per_day))
    budget = max(1.0, per_day * min(max(share, 0.0), 1.0))
    calls_per_poll = max(MIN_CALLS_PER_POLL, float(calls_per_poll))
    calls_per_reconcile = max(1.0, float(calls_per_reconcile))
    reasons = []
    reconcile = float(reconcile_interval)
    if shops:
        needed = shops * calls_per_reconcile * DAY_SECONDS / (budget * RECONCILE_SHARE)
        if needed > reconcile:
            reconcile = needed
            reasons.append("reconcile stretched to fit the quota")
    reconcile_cost = shops * calls_per_reconcile * DAY_SECONDS / reconcile if shops else 0.0
    poll = float(poll_interval)
    if shops:
        needed = shops * calls_per_poll * DAY_SECONDS / max(1.0, budget - reconcile_cost)
        if needed > poll:
            poll = needed
            reasons.append(f"{shops} shops share {budget:.0f} calls a day")
    if remaining is not None and remaining < per_day * LOW_WATER:
        factor = per_day * LOW_WATER / max(float(remaining), per_day * 0.01, 1.0)
        # The slow-down never goes past the cap (or the budgeted interval when that is longer).
        poll = min(poll * factor, max(MAX_INTERVAL_SECONDS, poll))
        reconcile = min(reconcile * factor, max(MAX_INTERVAL_SECONDS * 24, reconcile))
        reasons.append(f"only {remaining} calls left today: {factor:.1f}x slower")
    calls = (shops * calls_per_poll * DAY_SECONDS / poll + shops * calls_per_reconcile * DAY_SECONDS / reconcile
             if shops else 0.0)
    return Plan(poll, reconcile, calls, "; ".join(reasons) or "configured intervals fit the quota")
