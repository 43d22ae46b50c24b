"""OrderShipped → Etsy receipt shipment (thin: filled in by the fulfilment work)."""

from ..messages import EventType
from .base import Context, handles


def _reject(event, data, reason):
    return EventType.SHIPMENT_REJECTED, {"shop_id": data.get("shop_id"), "receipt_id": data.get("receipt_id"),
                                         "reason": reason}


@handles(EventType.ORDER_SHIPPED, reject=_reject)
def on_order_shipped(ctx: Context) -> None:
    ctx.log.info("shipment received", receipt_id=ctx.data["receipt_id"])
    ctx.emit(EventType.SHIPMENT_CONFIRMED, {"shop_id": ctx.shop_id, "receipt_id": ctx.data["receipt_id"],
                                            "carrier": ctx.data["carrier"],
                                            "tracking_number": ctx.data["tracking_number"]})
