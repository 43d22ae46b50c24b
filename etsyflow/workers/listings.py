"""ListingReady → the product's Etsy listing, created once, then kept in step (see catalogue.listings)."""

from ..catalogue import listings, unchanged
from ..messages import EventType
from ..schemas import listings as mapping
from ..shops import clients
from ..state import get_redis
from .registry import Context, handles


@handles(EventType.LISTING_READY)
def on_listing_ready(ctx: Context) -> None:
    data = ctx.data
    redis = get_redis()
    same = unchanged.check(redis, data)  # sent again as it was: one round trip, no Etsy call
    if same is not None:
        ctx.log.info("listing unchanged", product_id=data["product_id"], listing_id=same.listing_id)
        ctx.emit(EventType.LISTING_PUBLISHED, mapping.published_data(
            data, listing_id=same.listing_id, state=same.state, created=False, changed=[]))
        return
    client, once = clients(data["shop_id"])
    begun = []
    result = listings.sync(data, client=client, once=once, redis=redis,
                           on_locked=lambda: begun.append(unchanged.begin(redis, data)))
    unchanged.done(redis, data, begun[-1] if begun else None)
    ctx.log.info("listing synced", product_id=data["product_id"], listing_id=result.listing_id,
                 state=result.state, changed=result.changed)
    ctx.emit(EventType.LISTING_PUBLISHED, mapping.published_data(
        data, listing_id=result.listing_id, state=result.state, created=result.created, changed=result.changed))
