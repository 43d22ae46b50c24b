"""DeliveryTemplateReady → the Etsy shipping profile and processing profile (see catalogue.templates)."""

from ..catalogue import templates
from ..messages import EventType, Refused
from ..schemas import templates as mapping
from ..shops import ShopStore, clients
from ..state import get_redis
from .registry import Context, handles


@handles(EventType.DELIVERY_TEMPLATE_READY)
def on_delivery_template_ready(ctx: Context) -> None:
    data = ctx.data
    redis = get_redis()
    shop = ShopStore(redis).get(data["shop_id"])
    if shop is None:
        raise Refused(f"shop {data['shop_id']} is not connected to etsyflow")
    client, once = clients(data["shop_id"])
    outcome = templates.sync(data, client=client, once=once, redis=redis,
                             update_allowed=shop.update_shipping_templates)
    ctx.log.info("delivery template synced", template_id=data["template_id"],
                 shipping_profile_id=outcome.shipping_profile_id, created=outcome.created, updated=outcome.updated)
    ctx.emit(EventType.DELIVERY_TEMPLATE_SYNCED, mapping.synced_data(
        data, shipping_profile_id=outcome.shipping_profile_id, readiness_state_id=outcome.readiness_state_id,
        created=outcome.created, updated=outcome.updated, note=outcome.note))
