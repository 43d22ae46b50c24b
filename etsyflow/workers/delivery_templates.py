"""DeliveryTemplateReady → the Etsy shipping profile and processing profile (see catalogue.templates)."""

from ..catalogue import clients, templates
from ..messages import EventType
from ..schemas import templates as mapping
from ..shops.store import ShopStore
from ..state import get_redis
from .base import Context, Rejected, handles


def _reject(event, data, reason):
    return EventType.EVENT_REJECTED, {"type": event.type, "id": event.id,
                                      "errors": [{"field": "event", "message": reason}],
                                      "shop_id": data.get("shop_id"), "template_id": data.get("template_id")}


@handles(EventType.DELIVERY_TEMPLATE_READY, reject=_reject)
def on_delivery_template_ready(ctx: Context) -> None:
    data = ctx.data
    redis = get_redis()
    shop = ShopStore(redis).get(data["shop_id"])
    if shop is None:
        raise Rejected(f"shop {data['shop_id']} is not connected to etsyflow")
    client, once = clients.clients(data["shop_id"])
    outcome = templates.sync(data, client=client, once=once, redis=redis,
                             update_allowed=shop.update_shipping_templates)
    ctx.log.info("delivery template synced", template_id=data["template_id"],
                 shipping_profile_id=outcome.shipping_profile_id, created=outcome.created, updated=outcome.updated)
    ctx.emit(EventType.DELIVERY_TEMPLATE_SYNCED, mapping.synced_data(
        data, shipping_profile_id=outcome.shipping_profile_id, readiness_state_id=outcome.readiness_state_id,
        created=outcome.created, updated=outcome.updated, note=outcome.note))
