"""What one ``OrdersPollTick`` does: fan out, or poll one shop under its lock.

- No ``shop_id``: one tick per connected, usable shop is published (same
  ``mode``), so each shop is polled by its own message.
- A tick older than the poll interval is dropped (the scheduler has sent a
  newer one), and so is a tick for a shop whose poll is running: a shop is
  never polled twice at once, and ticks piled up behind a slow poll cost
  nothing. A dropped tick leaves a note (``again``); the running poll reads it
  when it ends and polls once more, so an order announced by a webhook during
  a poll still arrives in seconds, not at the next tick.
- Each finished poll is recorded (``ShopStore.mark_polled`` and the order
  status hash) for ``etsyflow shop list`` / ``etsyflow status`` and the
  scheduler's budget.
"""

from __future__ import annotations

import time
from datetime import datetime

from ..config import get_settings
from ..config.logging import get_logger
from ..messages import CloudEvent, EventType, Refused, publish
from ..shops import ShopStore, shop_client
from .config import OrdersConfig, get_orders_config
from .poll import INCREMENTAL, MODES, RECONCILE, Poller, PollResult
from .store import OrderState

log = get_logger("etsyflow.orders")

#: A tick is never considered stale sooner than this (seconds), whatever the interval.
MIN_STALE_SECONDS = 60.0
#: Extra passes one tick runs for ticks that arrived while it held the lock.
MAX_EXTRA_PASSES = 3


def tick_age_seconds(event: CloudEvent, now: float | None = None) -> float:
    """Seconds since the tick was made (0 when its time is unreadable)."""
    try:
        made = datetime.fromisoformat(str(event.time).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
    return max(0.0, (time.time() if now is None else now) - made)


def stale_after_seconds(mode: str, settings=None) -> float:
    """A tick of ``mode`` older than this (seconds) is dropped: a newer one has been sent."""
    settings = settings or get_settings()
    interval = settings.reconcile_interval_seconds if mode == RECONCILE else settings.poll_interval_seconds
    return max(float(interval), MIN_STALE_SECONDS)


def fan_out(event: CloudEvent, mode: str, emit) -> list[int]:
    """Publish one tick per connected, usable shop; returns their ids."""
    age = tick_age_seconds(event)
    if age > stale_after_seconds(mode):
        log.info("stale poll tick dropped; a newer one has been sent", mode=mode, age_seconds=round(age, 1))
        return []
    store = ShopStore()
    shop_ids = []
    for shop in store.list_shops():
        if not shop.usable:
            log.info("shop waits to be reconnected; not polled", shop_id=shop.shop_id)
            continue
        emit(EventType.ORDERS_POLL_TICK, {"shop_id": shop.shop_id, "mode": mode}, key=f"{shop.shop_id}:{mode}")
        shop_ids.append(shop.shop_id)
    log.info("poll tick fanned out", shops=len(shop_ids), mode=mode)
    return shop_ids


def poll_shop(event: CloudEvent, shop_id: int, mode: str = INCREMENTAL, *, client=None,
              config: OrdersConfig | None = None, on_publish=None) -> list[PollResult]:
    """Poll ``shop_id`` under its lock (plus the passes asked for meanwhile).

    Returns one result per pass run; an empty list when the tick was dropped.
    ``on_publish(event)`` is called after each event is published.
    """
    config = config or get_orders_config()
    if mode not in MODES:
        mode = INCREMENTAL
    age = tick_age_seconds(event)
    if age > stale_after_seconds(mode):
        log.info("stale poll tick dropped; a newer one has been sent", shop_id=shop_id, mode=mode,
                 age_seconds=round(age, 1))
        return []
    store = ShopStore()
    if store.get(shop_id) is None:
        raise Refused(f"shop {shop_id} is not connected (run `etsyflow shop connect --shop-id {shop_id}`)")
    if not store.is_usable(shop_id):
        log.info("shop waits to be reconnected; poll tick dropped", shop_id=shop_id, mode=mode)
        return []
    client = client or shop_client(shop_id)  # before the lock: nothing between taking and the try below
    state = OrderState(shop_id)
    if not state.acquire(config.lock_ttl_seconds):
        state.ask_again(mode, config.lock_ttl_seconds)
        # Take it after all if the holder finished between our try and our note.
        if not state.acquire(config.lock_ttl_seconds):
            log.info("shop is being polled; tick dropped (the running poll goes once more)",
                     shop_id=shop_id, mode=mode)
            return []
        pending = state.take_again()  # we poll now, after every note left so far: they are answered
    else:
        pending = []

    def publish_one(out: CloudEvent) -> None:
        publish(out)
        if on_publish is not None:
            on_publish(out)

    poller = Poller(shop_id, client, state, config, publish=publish_one, cause=event)
    results: list[PollResult] = []
    modes = [mode] + [m for m in pending if m != mode]
    for round_no in range(1 + MAX_EXTRA_PASSES):
        try:
            for current in modes:
                result = poller.run(current)
                results.append(result)
                _record(store, state, result)
                log.info("shop polled", shop_id=shop_id, **result.as_log())
        finally:
            state.release()
        # Ticks that came while we held the lock may announce receipts this pass
        # had already read past: poll once more for them (bounded).
        modes = state.take_again()
        if not modes:
            break
        if round_no == MAX_EXTRA_PASSES:
            log.info("more polls asked for than one tick runs; the next tick goes on", shop_id=shop_id)
            break
        if not state.acquire(config.lock_ttl_seconds):
            break  # another tick holds the lock now: it polls
    return results


def _record(store, state: OrderState, result: PollResult) -> None:
    state.record(result.mode, calls=result.calls, downloaded=result.downloaded, updated=result.updated,
                 seconds=result.seconds)
    if result.mode == INCREMENTAL:
        store.mark_polled(result.shop_id)
