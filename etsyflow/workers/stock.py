"""StockChanged → quantity of one SKU on Etsy (thin: filled in by the listings work)."""

from ..messages import EventType
from .base import Context, handles


def _reject(event, data, reason):
    return EventType.STOCK_REJECTED, {"shop_id": data.get("shop_id"), "sku": data.get("sku"), "reason": reason}


@handles(EventType.STOCK_CHANGED, reject=_reject)
def on_stock_changed(ctx: Context) -> None:
    ctx.log.info("stock received", sku=ctx.data["sku"], quantity=ctx.data["quantity"])
    ctx.emit(EventType.STOCK_UPDATED, {"shop_id": ctx.shop_id, "sku": ctx.data["sku"],
                                       "quantity": ctx.data["quantity"]})
