"""ShopListingsSync → existing Etsy listings linked by SKU, the rest announced (see catalogue.linking);
ListingRemoved → the product's listing made inactive or deleted (see catalogue.retire)."""

from ..catalogue import linking, retire
from ..messages import EventType
from ..schemas import linking as shape
from ..shops import clients
from ..state import get_redis
from .registry import Context, handles


@handles(EventType.SHOP_LISTINGS_SYNC)
def on_shop_listings_sync(ctx: Context) -> None:
    client, _once = clients(ctx.data["shop_id"])
    report = linking.run(ctx.data["shop_id"], client=client, redis=get_redis(),
                         emit=lambda etype, data, key: ctx.emit(etype, data, key=key))
    ctx.log.info("listings synced", **report.counts())


@handles(EventType.LISTING_REMOVED)
def on_listing_removed(ctx: Context) -> None:
    data = ctx.data
    client, _once = clients(data["shop_id"])
    outcome = retire.remove(data, client=client, redis=get_redis())
    ctx.log.info("listing unpublished", product_id=data["product_id"], listing_id=outcome.listing_id,
                 state=outcome.state, changed=outcome.changed)
    ctx.emit(EventType.LISTING_UNPUBLISHED, shape.unpublished_data(
        data["shop_id"], data["product_id"], outcome.listing_id, outcome.state))
