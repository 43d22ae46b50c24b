"""The ``etsyflow scheduler`` process: poll and reconcile ticks for every connected shop.

Every ``POLL_INTERVAL_SECONDS`` (stretched by :mod:`.budget` when the shops
do not fit in the daily quota) it publishes ``OrdersPollTick {shop_id}`` per
connected shop on the bus, and every ``RECONCILE_INTERVAL_SECONDS`` an
``OrdersPollTick {shop_id, mode: "reconcile"}``. Ticks go through the bus like
any upstream event (bridge → actor).

When each shop is next due lives in Redis (``etsyflow:scheduler:due``, a
sorted set of ``<shop>:<mode>`` by epoch seconds) and is claimed atomically,
so a second scheduler process (a standby) never doubles a tick, and a
restarted scheduler keeps its rhythm. ``etsyflow:scheduler:status`` records
the last plan for ``etsyflow status``.
"""

from __future__ import annotations

import threading
import time
import uuid

from ..config import get_settings
from ..config.logging import get_logger
from ..etsy.ratelimit import RateLimiter
from ..messages import CloudEvent, EventType, publish
from ..orders.config import OrdersConfig, get_orders_config
from ..orders.poll import INCREMENTAL, RECONCILE
from ..orders.store import OrderState
from ..shops.store import ShopStore
from ..state import get_redis
from .budget import MIN_CALLS_PER_POLL, Plan, plan

log = get_logger("etsyflow.scheduler")

SOURCE = "etsyflow.scheduler"
#: How often (seconds) shops and the budget are read again.
REPLAN_SECONDS = 30.0
#: The loop never sleeps longer than this (seconds), so it notices stop and new shops.
MAX_SLEEP_SECONDS = 5.0
#: After a failed publish, try that tick again this soon (seconds).
RETRY_PUBLISH_SECONDS = 5.0
_TICK_NS = uuid.UUID("b7f0c3d2-5e4a-4c1b-9a8f-2d6e1f0a3c75")

# Claim every due member: move it to now + its interval and return it.
# KEYS[1] due zset; ARGV: now, poll interval, reconcile interval
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, member in ipairs(due) do
  local interval = ARGV[2]
  if string.sub(member, -10) == ':reconcile' then interval = ARGV[3] end
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(interval), member)
end
return due
"""


class Scheduler:
    """``Scheduler().run(stop)``; :meth:`run_once` does one round (tests, ``--once``)."""

    def __init__(self, redis=None, settings=None, config: OrdersConfig | None = None, *,
                 prefix: str = "etsyflow", publish_event=publish, clock=time.time):
        if redis is None:
            redis = get_redis()
        self.redis = redis
        self.settings = settings or get_settings()
        self.config = config or get_orders_config()
        self.prefix = prefix
        self.publish_event = publish_event
        self.clock = clock
        self.due_key = f"{prefix}:scheduler:due"
        self.status_key = f"{prefix}:scheduler:status"
        self._claim = redis.register_script(_CLAIM)
        self._plan: Plan | None = None
        self._shops: list[int] = []
        self._planned_at = float("-inf")

    # -- planning --------------------------------------------------------------------------
    def remaining_today(self) -> int | None:
        try:
            return RateLimiter(self.redis, self.settings, prefix=self.prefix).remaining_today()
        except Exception as error:  # the budget must never stop the scheduler
            log.warning("could not read the remaining Etsy quota", error=str(error))
            return None

    def per_day(self) -> int:
        try:
            return RateLimiter(self.redis, self.settings, prefix=self.prefix).effective_limits()[1]
        except Exception:
            return int(self.settings.etsy_rate_per_day)

    def connected_shops(self) -> list[int]:
        return [s.shop_id for s in ShopStore(self.redis, self.settings, prefix=self.prefix).list_shops() if s.usable]

    def replan(self) -> Plan:
        shops = self.connected_shops()
        poll_calls = [OrderState(s, self.redis, prefix=self.prefix).calls_average(INCREMENTAL, MIN_CALLS_PER_POLL)
                      for s in shops]
        reconcile_calls = [OrderState(s, self.redis, prefix=self.prefix).calls_average(RECONCILE, 2.0) for s in shops]
        remaining = self.remaining_today()
        current = plan(
            shops=len(shops), poll_interval=self.settings.poll_interval_seconds,
            reconcile_interval=self.settings.reconcile_interval_seconds, per_day=self.per_day(),
            share=self.config.poll_budget_share,
            calls_per_poll=sum(poll_calls) / len(poll_calls) if poll_calls else MIN_CALLS_PER_POLL,
            calls_per_reconcile=sum(reconcile_calls) / len(reconcile_calls) if reconcile_calls else 2.0,
            remaining=remaining)
        if self._plan is None or (current.poll_interval, current.reconcile_interval) != (
                self._plan.poll_interval, self._plan.reconcile_interval):
            log.info("poll plan", shops=len(shops), poll_interval_seconds=round(current.poll_interval, 1),
                     reconcile_interval_seconds=round(current.reconcile_interval, 1),
                     planned_calls_per_day=round(current.planned_calls_per_day), remaining_today=remaining,
                     reason=current.reason)
        self._sync_members(shops, current)
        self._plan, self._shops, self._planned_at = current, shops, self.clock()
        self.redis.hset(self.status_key, mapping={
            "planned_at": repr(self._planned_at), "shops": len(shops),
            "poll_interval_seconds": round(current.poll_interval, 3),
            "reconcile_interval_seconds": round(current.reconcile_interval, 3),
            "planned_calls_per_day": round(current.planned_calls_per_day, 1),
            "remaining_today": "" if remaining is None else remaining, "reason": current.reason,
        })
        return current

    def _sync_members(self, shops: list[int], current: Plan) -> None:
        """New shops are due now; shops gone are forgotten; a shorter interval applies at once."""
        now = self.clock()
        wanted = {f"{s}:{m}" for s in shops for m in (INCREMENTAL, RECONCILE)}
        present = {m.decode() if isinstance(m, bytes) else m for m in self.redis.zrange(self.due_key, 0, -1)}
        if present - wanted:
            self.redis.zrem(self.due_key, *(present - wanted))
        kept = present & wanted
        if kept:
            # LT: only pulls a due time forward (the quota recovered), never pushes it back.
            self.redis.zadd(self.due_key, {m: now + (current.reconcile_interval if m.endswith(f":{RECONCILE}")
                                                     else current.poll_interval) for m in kept}, xx=True, lt=True)
        if wanted - present:
            self.redis.zadd(self.due_key, {m: now for m in wanted - present}, nx=True)

    # -- one round ----------------------------------------------------------------------------
    def run_once(self) -> list[CloudEvent]:
        """Publish every tick that is due now; returns them."""
        if self._plan is None or self.clock() - self._planned_at >= REPLAN_SECONDS:
            self.replan()
        now = self.clock()  # after replanning: shops it just added are due at its "now"
        claimed = self._claim(keys=[self.due_key],
                              args=[repr(now), repr(self._plan.poll_interval), repr(self._plan.reconcile_interval)])
        sent = []
        for raw in claimed:
            member = raw.decode() if isinstance(raw, bytes) else raw
            shop, _, mode = member.partition(":")
            tick = CloudEvent.new(EventType.ORDERS_POLL_TICK, {"shop_id": int(shop), "mode": mode}, source=SOURCE,
                                  id=str(uuid.uuid5(_TICK_NS, f"{member}\x1f{now:.3f}")))
            try:
                self.publish_event(tick)
            except Exception as error:  # bus down: this tick is due again soon
                self.redis.zadd(self.due_key, {member: now + RETRY_PUBLISH_SECONDS})
                log.error("could not publish poll tick; retrying soon", shop_id=int(shop), mode=mode,
                          error=str(error))
                continue
            sent.append(tick)
        if sent:
            self.redis.hset(self.status_key, "last_tick_at", repr(now))
            log.info("poll ticks published", ticks=len(sent))
        return sent

    def next_due_in(self) -> float:
        """Seconds until the next tick is due (bounded by :data:`MAX_SLEEP_SECONDS`)."""
        first = self.redis.zrange(self.due_key, 0, 0, withscores=True)
        if not first:
            return MAX_SLEEP_SECONDS
        return min(MAX_SLEEP_SECONDS, max(0.05, first[0][1] - self.clock()))

    def run(self, stop: threading.Event | None = None) -> None:
        """Loop until ``stop`` is set (a signal in the CLI)."""
        stop = stop or threading.Event()
        log.info("scheduler started", poll_interval_seconds=self.settings.poll_interval_seconds,
                 reconcile_interval_seconds=self.settings.reconcile_interval_seconds)
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as error:  # Redis hiccup: log, wait, go on
                log.error("scheduler round failed; retrying", error=str(error))
                stop.wait(MAX_SLEEP_SECONDS)
                continue
            stop.wait(self.next_due_in())
        log.info("scheduler stopped")


def status(redis=None, prefix: str = "etsyflow") -> dict:
    """The scheduler's last plan (for ``etsyflow status``)."""
    if redis is None:
        redis = get_redis()
    raw = redis.hgetall(f"{prefix}:scheduler:status")
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()}
