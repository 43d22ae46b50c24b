"""ListingReady → the product's Etsy listing, created once, then kept in step (see catalogue.listings);
an Etsy listing that already sells the product's SKUs is linked first (see catalogue.linking)."""

from ..catalogue import freshness, linking, listings, unchanged
from ..messages import EventType
from ..schemas import listings as mapping
from ..schemas.linking import product_skus
from ..schemas.rejections import refusal
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
        # Still the newest word on this product and its stock: an older event arriving late
        # must not be applied over it.
        freshness.record_product(redis, data["shop_id"], data["product_id"], ctx.event.time)
        freshness.record_stock(redis, data["shop_id"], product_skus(data), ctx.event.time)
        ctx.emit(EventType.LISTING_PUBLISHED, mapping.published_data(
            data, listing_id=same.listing_id, state=same.state, created=False, changed=[]))
        return
    client, once = clients(data["shop_id"])
    try:
        # An Etsy listing that already sells this product's SKUs is linked, not duplicated.
        linking.before_create(data, client=client, redis=redis,
                              emit=lambda etype, edata, key: ctx.emit(etype, edata, key=key))
    except linking.Ambiguous as ambiguous:
        ctx.log.warning("not linked: ambiguous", product_id=data["product_id"], candidates=ambiguous.candidates)
        notice = refusal(ctx.event, data, ambiguous.reason)
        ctx.emit(notice.type, {**notice.data, "candidates": ambiguous.candidates})
        return
    begun = []
    result = listings.sync(data, client=client, once=once, redis=redis, event_time=ctx.event.time,
                           on_locked=lambda: begun.append(unchanged.begin(redis, data)))
    unchanged.done(redis, data, begun[-1] if begun else None)
    ctx.log.info("listing synced", product_id=data["product_id"], listing_id=result.listing_id,
                 state=result.state, changed=result.changed)
    ctx.emit(EventType.LISTING_PUBLISHED, mapping.published_data(
        data, listing_id=result.listing_id, state=result.state, created=result.created, changed=result.changed,
        fields=result.fields, overwritten=result.overwritten, kept=result.kept))
