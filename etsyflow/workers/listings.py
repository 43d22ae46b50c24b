"""ListingReady → Etsy listing (thin: filled in by the listings work)."""

from ..messages import EventType
from .base import Context, handles


def _reject(event, data, reason):
    return EventType.LISTING_REJECTED, {"shop_id": data.get("shop_id"), "product_id": data.get("product_id"),
                                        "reason": reason}


@handles(EventType.LISTING_READY, reject=_reject)
def on_listing_ready(ctx: Context) -> None:
    ctx.log.info("listing received", product_id=ctx.data["product_id"])
    ctx.emit(EventType.LISTING_PUBLISHED, {"shop_id": ctx.shop_id, "product_id": ctx.data["product_id"],
                                           "listing_id": None, "state": ctx.data["state"], "url": None})
