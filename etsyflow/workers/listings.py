"""ListingReady → the product's Etsy listing, created once, then kept in step (see catalogue.listings);
an Etsy listing that already sells the product's SKUs is linked first (see catalogue.linking)."""

from ..catalogue import linking, listings
from ..messages import EventType
from ..schemas import listings as mapping
from ..schemas.rejections import refusal
from ..shops import clients
from ..state import get_redis
from .registry import Context, handles


@handles(EventType.LISTING_READY)
def on_listing_ready(ctx: Context) -> None:
    data = ctx.data
    client, once = clients(data["shop_id"])
    redis = get_redis()
    try:
        # An Etsy listing that already sells this product's SKUs is linked, not duplicated.
        linking.before_create(data, client=client, redis=redis,
                              emit=lambda etype, edata, key: ctx.emit(etype, edata, key=key))
    except linking.Ambiguous as ambiguous:
        ctx.log.warning("not linked: ambiguous", product_id=data["product_id"], candidates=ambiguous.candidates)
        notice = refusal(ctx.event, data, ambiguous.reason)
        ctx.emit(notice.type, {**notice.data, "candidates": ambiguous.candidates})
        return
    result = listings.sync(data, client=client, once=once, redis=redis, event_time=ctx.event.time)
    ctx.log.info("listing synced", product_id=data["product_id"], listing_id=result.listing_id,
                 state=result.state, changed=result.changed)
    ctx.emit(EventType.LISTING_PUBLISHED, mapping.published_data(
        data, listing_id=result.listing_id, state=result.state, created=result.created, changed=result.changed,
        fields=result.fields, overwritten=result.overwritten, kept=result.kept))
