"""OrderShipped → Etsy receipt shipment (``createReceiptShipment``), exactly once per parcel.

Publishes ``ShipmentConfirmed`` when Etsy has the shipment (also for a parcel
Etsy already had: ``already_recorded: true``), ``ShipmentRejected`` with a
reason when Etsy refuses it. The exactly-once work lives in
:mod:`etsyflow.fulfilment.sender`; the body mapping in
:mod:`etsyflow.schemas.shipments`.
"""

from ..fulfilment.sender import ShipmentSender
from ..messages import EventType
from .registry import Context, handles


@handles(EventType.ORDER_SHIPPED)
def on_order_shipped(ctx: Context) -> None:
    outcome = ShipmentSender(log=ctx.log).send(ctx.data, ctx.event.id)
    ctx.emit(EventType.SHIPMENT_CONFIRMED, outcome.confirmed, key=outcome.ref)
