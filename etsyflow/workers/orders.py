"""OrdersPollTick → new and changed receipts (thin: filled in by the orders work)."""

from ..messages import EventType
from .base import Context, handles


@handles(EventType.ORDERS_POLL_TICK, idempotent_skip=False)
def on_orders_poll_tick(ctx: Context) -> None:
    ctx.log.info("poll tick received")
