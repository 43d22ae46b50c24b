"""ListingReady → the product's Etsy listing, created once, then kept in step (see catalogue.listings)."""

from ..catalogue import listings
from ..messages import EventType
from ..schemas import listings as mapping
from ..shops import clients
from ..state import get_redis
from .registry import Context, handles


@handles(EventType.LISTING_READY)
def on_listing_ready(ctx: Context) -> None:
    data = ctx.data
    client, once = clients(data["shop_id"])
    result = listings.sync(data, client=client, once=once, redis=get_redis(), event_time=ctx.event.time)
    ctx.log.info("listing synced", product_id=data["product_id"], listing_id=result.listing_id,
                 state=result.state, changed=result.changed)
    ctx.emit(EventType.LISTING_PUBLISHED, mapping.published_data(
        data, listing_id=result.listing_id, state=result.state, created=result.created, changed=result.changed))
