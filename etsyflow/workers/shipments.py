"""OrderShipped → Etsy receipt shipment (``createReceiptShipment``), exactly once per parcel.

Publishes ``ShipmentConfirmed`` when Etsy has the shipment (also for a parcel
Etsy already had: ``already_recorded: true``), ``ShipmentRejected`` with a
reason when Etsy refuses it. The exactly-once work lives in
:mod:`etsyflow.fulfilment.sender`; the body mapping in
:mod:`etsyflow.schemas.shipments`.
"""

from ..fulfilment.sender import ShipmentSender
from ..messages import EventType
from ..schemas.shipments import rejected_data
from .base import Context, handles


def _reject(event, data, reason):
    return EventType.SHIPMENT_REJECTED, rejected_data(data, reason)


@handles(EventType.ORDER_SHIPPED, reject=_reject)
def on_order_shipped(ctx: Context) -> None:
    outcome = ShipmentSender(log=ctx.log).send(ctx.data, ctx.event.id)
    ctx.emit(EventType.SHIPMENT_CONFIRMED, outcome.confirmed, key=outcome.ref)
