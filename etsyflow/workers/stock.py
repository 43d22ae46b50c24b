"""StockChanged → one SKU's quantity on Etsy, the rest of the matrix kept (see catalogue.stock)."""

from ..catalogue import clients, stock
from ..catalogue.listings import Refused
from ..messages import EventType
from ..schemas import listings as mapping
from ..state import get_redis
from .base import Context, Rejected, handles


def _reject(event, data, reason):
    return EventType.STOCK_REJECTED, mapping.stock_rejected_data(data, reason)


@handles(EventType.STOCK_CHANGED, reject=_reject)
def on_stock_changed(ctx: Context) -> None:
    data = ctx.data
    client, _once = clients.clients(data["shop_id"])
    try:
        outcome = stock.apply(data, client=client, redis=get_redis(), event_time=ctx.event.time)
    except Refused as refused:
        raise Rejected(refused.reason) from None
    ctx.log.info("stock updated", sku=data["sku"], quantity=data["quantity"], listing_id=outcome.listing_id,
                 changed=outcome.changed)
    ctx.emit(EventType.STOCK_UPDATED, mapping.stock_data(
        data["shop_id"], data["sku"], data["quantity"], listing_id=outcome.listing_id,
        product_id=outcome.product_id, state=outcome.state, changed=outcome.changed))
