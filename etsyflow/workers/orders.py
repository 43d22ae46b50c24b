"""OrdersPollTick → new and changed receipts as OrderDownloaded / OrderUpdated.

The work is in :mod:`etsyflow.orders` (poll loop, cursor, fingerprints,
lock); this actor only dispatches: no ``shop_id`` → one tick per connected
shop; a ``shop_id`` → poll that shop in the tick's ``mode``. Each run is fresh
(``skip_repeats=False`` in the contract table): a redelivered tick polls again, and the
fingerprints make re-read receipts silent.
"""

from ..messages import EventType
from ..orders.tick import fan_out, poll_shop
from .registry import Context, handles


@handles(EventType.ORDERS_POLL_TICK)
def on_orders_poll_tick(ctx: Context) -> None:
    mode = ctx.data.get("mode") or "incremental"
    if ctx.shop_id is None:
        fan_out(ctx.event, mode, ctx.emit)
        return
    poll_shop(ctx.event, int(ctx.shop_id), mode, on_publish=ctx.published.append)
