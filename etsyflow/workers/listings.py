"""ListingReady → the product's Etsy listing, created once, then kept in step (see catalogue.listings)."""

from ..catalogue import clients, linking, listings
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
    redis = get_redis()
    try:
        # An Etsy listing that already sells this product's SKUs is linked, not duplicated.
        linking.before_create(data, client=client, redis=redis,
                              emit=lambda etype, edata, key: ctx.emit(etype, edata, key=key))
        result = listings.sync(data, client=client, once=once, redis=redis)
    except linking.Ambiguous as ambiguous:
        ctx.log.warning("not linked: ambiguous", product_id=data["product_id"], candidates=ambiguous.candidates)
        ctx.emit(EventType.LISTING_REJECTED, {**mapping.rejected_data(data, ambiguous.reason),
                                              "candidates": ambiguous.candidates})
        return
    except listings.Refused as refused:
        raise Rejected(refused.reason) from None
    ctx.log.info("listing synced", product_id=data["product_id"], listing_id=result.listing_id,
                 state=result.state, changed=result.changed)
    ctx.emit(EventType.LISTING_PUBLISHED, mapping.published_data(
        data, listing_id=result.listing_id, state=result.state, created=result.created, changed=result.changed,
        fields=result.fields, overwritten=result.overwritten, kept=result.kept))
