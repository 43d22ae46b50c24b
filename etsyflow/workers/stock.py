"""StockChanged → one SKU's quantity on Etsy, the rest of the matrix kept (see catalogue.stock)."""

from ..catalogue import stock
from ..messages import EventType
from ..schemas import listings as mapping
from ..shops import clients
from ..state import get_redis
from .registry import Context, handles


@handles(EventType.STOCK_CHANGED)
def on_stock_changed(ctx: Context) -> None:
    data = ctx.data
    client, _once = clients(data["shop_id"])
    outcome = stock.apply(data, client=client, redis=get_redis(), event_time=ctx.event.time)
    ctx.log.info("stock updated", sku=data["sku"], quantity=data["quantity"], listing_id=outcome.listing_id,
                 changed=outcome.changed)
    ctx.emit(EventType.STOCK_UPDATED, mapping.stock_data(
        data["shop_id"], data["sku"], data["quantity"], listing_id=outcome.listing_id,
        product_id=outcome.product_id, state=outcome.state, changed=outcome.changed))
