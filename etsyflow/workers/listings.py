"""ListingReady → the product's Etsy listing, created once, then kept in step (see catalogue.listings)."""

from ..catalogue import clients, listings
from ..messages import EventType
from ..schemas import listings as mapping
from ..state import get_redis
from .base import Context, Rejected, handles


def _reject(event, data, reason):
    return EventType.LISTING_REJECTED, mapping.rejected_data(data, reason)


@handles(EventType.LISTING_READY, reject=_reject)
def on_listing_ready(ctx: Context) -> None:
    data = ctx.data
    client, once = clients.clients(data["shop_id"])
    try:
        result = listings.sync(data, client=client, once=once, redis=get_redis(), event_time=ctx.event.time)
    except listings.Refused as refused:
        raise Rejected(refused.reason) from None
    ctx.log.info("listing synced", product_id=data["product_id"], listing_id=result.listing_id,
                 state=result.state, changed=result.changed)
    ctx.emit(EventType.LISTING_PUBLISHED, mapping.published_data(
        data, listing_id=result.listing_id, state=result.state, created=result.created, changed=result.changed))
