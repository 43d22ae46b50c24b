"""DeliveryTemplateReady → Etsy shipping profile (thin: filled in by the listings work)."""

from ..messages import EventType
from .base import Context, handles


def _reject(event, data, reason):
    return EventType.EVENT_REJECTED, {"type": event.type, "id": event.id,
                                      "errors": [{"field": "event", "message": reason}]}


@handles(EventType.DELIVERY_TEMPLATE_READY, reject=_reject)
def on_delivery_template_ready(ctx: Context) -> None:
    ctx.log.info("delivery template received", template_id=ctx.data["template_id"])
    ctx.emit(EventType.DELIVERY_TEMPLATE_SYNCED, {"shop_id": ctx.shop_id, "template_id": ctx.data["template_id"],
                                                  "shipping_profile_id": None})
