"""Knobs of the order download, part of :class:`~etsyflow.config.Settings` (beyond the contract).

Units are in the names: ``*_SECONDS`` seconds, ``*_DAYS`` days. Every value is
checked; a wrong one raises :class:`~etsyflow.config.ConfigError` naming it.

=================================  =========  ====================================================
variable                           default    meaning
=================================  =========  ====================================================
``ORDERS_OVERLAP_SECONDS``         120        each incremental poll re-reads this far behind the
                                              cursor (late-visible receipts; re-reads are silent)
``ORDERS_INITIAL_LOOKBACK_DAYS``   30         a shop's first poll downloads receipts modified
                                              in this many past days
``ORDERS_RECONCILE_DAYS``          14         a reconcile re-reads receipts created this many
                                              days back (refunds, ship-date edits, cancellations)
``ORDERS_LOCK_TTL_SECONDS``        120        the per-shop poll lock lapses this long after the
                                              last page if its holder died
``ORDERS_MAX_PAGES_PER_TICK``      50         pages (100 receipts each) one tick reads at most;
                                              the next tick goes on from the cursor
``POLL_BUDGET_SHARE``              0.5        share of the daily Etsy quota polling may plan to use
=================================  =========  ====================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from .errors import ConfigError


@dataclass(frozen=True)
class OrdersConfig:
    overlap_seconds: int = 120
    initial_lookback_days: float = 30.0
    reconcile_days: float = 14.0
    lock_ttl_seconds: float = 120.0
    max_pages_per_tick: int = 50
    poll_budget_share: float = 0.5

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, problems: list[str] | None = None) -> "OrdersConfig":
        """Read the knobs; each wrong one is added to ``problems`` (raised as one
        :class:`ConfigError` when no list is given)."""
        env = os.environ if env is None else env
        collect = problems is not None
        problems = problems if collect else []

        def number(name: str, default: float, low: float, high: float, kind=float):
            raw = str(env.get(name, "")).strip()
            if not raw:
                return default
            try:
                value = kind(raw)
            except ValueError:
                problems.append(f"{name}={raw!r}: must be a {'whole number' if kind is int else 'number'}")
                return default
            if not low <= value <= high:
                problems.append(f"{name}={raw!r}: must be between {low:g} and {high:g}")
                return default
            return value

        config = cls(
            overlap_seconds=number("ORDERS_OVERLAP_SECONDS", cls.overlap_seconds, 0, 86400, int),
            initial_lookback_days=number("ORDERS_INITIAL_LOOKBACK_DAYS", cls.initial_lookback_days, 0, 3650),
            reconcile_days=number("ORDERS_RECONCILE_DAYS", cls.reconcile_days, 0.01, 365),
            lock_ttl_seconds=number("ORDERS_LOCK_TTL_SECONDS", cls.lock_ttl_seconds, 1, 3600),
            max_pages_per_tick=number("ORDERS_MAX_PAGES_PER_TICK", cls.max_pages_per_tick, 1, 10000, int),
            poll_budget_share=number("POLL_BUDGET_SHARE", cls.poll_budget_share, 0.01, 1.0),
        )
        if problems and not collect:
            raise ConfigError(problems)
        return config
