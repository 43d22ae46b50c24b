"""ShopListingsSync → existing Etsy listings linked by SKU, the rest announced (see catalogue.linking);
ListingRemoved → the product's listing made inactive or deleted (see catalogue.retire)."""

from ..catalogue import clients, linking, retire
from ..catalogue.listings import Refused
from ..messages import EventType
from ..schemas import linking as shape
from ..schemas import listings as mapping
from ..state import get_redis
from .base import Context, Rejected, handles


def _emitter(ctx: Context):
    return lambda etype, data, key: ctx.emit(etype, data, key=key)


# No type-specific rejection in the contract for a sync request: EventRejected.
@handles(EventType.SHOP_LISTINGS_SYNC)
def on_shop_listings_sync(ctx: Context) -> None:
    client, _once = clients.clients(ctx.data["shop_id"])
    report = linking.run(ctx.data["shop_id"], client=client, redis=get_redis(), emit=_emitter(ctx))
    ctx.log.info("listings synced", **report.counts())


def _reject_removed(event, data, reason):
    return EventType.LISTING_REJECTED, mapping.rejected_data(data, reason)


@handles(EventType.LISTING_REMOVED, reject=_reject_removed)
def on_listing_removed(ctx: Context) -> None:
    data = ctx.data
    client, _once = clients.clients(data["shop_id"])
    try:
        outcome = retire.remove(data, client=client, redis=get_redis())
    except Refused as refused:
        raise Rejected(refused.reason) from None
    ctx.log.info("listing unpublished", product_id=data["product_id"], listing_id=outcome.listing_id,
                 state=outcome.state, changed=outcome.changed)
    ctx.emit(EventType.LISTING_UNPUBLISHED, shape.unpublished_data(
        data["shop_id"], data["product_id"], outcome.listing_id, outcome.state))
