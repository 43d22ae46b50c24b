"""The inbound side of the public contract, as one table.

Each inbound event type has one :class:`Inbound` entry in :data:`CONTRACT`:

* ``schema`` — the name of its data schema in :mod:`etsyflow.schemas.events`
  (a name, not the class: this module is in the lowest layer and the schemas
  sit above it; :mod:`etsyflow.schemas.events` checks every name at import);
* ``rejection`` — the follow-up published when the event is refused (bad
  input, Etsy's permanent refusal, retries exhausted), and ``subject`` /
  ``extra`` — the data fields copied into it (``subject`` always, ``extra``
  when present); :func:`rejection_data` builds it;
* ``queue`` and the actor options (``max_retries``, backoff, ``time_limit``,
  ``max_age``) — in **seconds** here; :mod:`etsyflow.workers.options` turns
  them into Dramatiq's milliseconds;
* ``skip_repeats`` — whether a redelivered event id that already completed is
  skipped (False for poll ticks: each run is fresh).

Who reads it: the bridge (which types are inbound), the actors (one per
entry, with its options), the failure table and dead-letter notices (the
rejection), metrics (which types are rejections).

Adding an inbound event type: its name in :class:`~.types.EventType`, one
entry here (naming its schema class, which you add to ``schemas/events.py``),
and one handler: a function decorated ``@handles(EventType.X)`` in a module
of ``etsyflow/workers/`` listed in ``workers/modules.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from .types import EventType

SECOND = 1.0
MINUTE = 60 * SECOND

#: Queues of the work, by kind (names are stored in brokers: stable).
LISTINGS_QUEUE = "etsyflow.listings"
STOCK_QUEUE = "etsyflow.stock"
ORDERS_QUEUE = "etsyflow.orders"
FULFILMENT_QUEUE = "etsyflow.fulfilment"


@dataclass(frozen=True)
class Inbound:
    """One inbound event type and how it is handled. Durations are seconds."""

    type: EventType
    schema: str
    rejection: EventType
    subject: tuple[str, ...]
    queue: str
    extra: tuple[str, ...] = ()
    # Transient failures (Etsy 5xx, timeouts, lost connections) are retried with
    # exponential backoff from 2 s up to 10 min, 12 times (about an hour of
    # trying) before the message is dead-lettered for an operator to replay.
    max_retries: int = 12
    min_backoff: float = 2 * SECOND
    max_backoff: float = 10 * MINUTE
    time_limit: float = 5 * MINUTE
    max_age: float | None = None
    skip_repeats: bool = True


CONTRACT: dict[str, Inbound] = {entry.type: entry for entry in (
    # Beyond the contract: a type-specific rejection for bad delivery templates
    # and bad ticks would be new public names, so those use EventRejected.
    Inbound(EventType.DELIVERY_TEMPLATE_READY, "DeliveryTemplateReadySchema", EventType.EVENT_REJECTED,
            subject=("shop_id", "template_id"), queue=LISTINGS_QUEUE),
    # Up to 10 image downloads and uploads: allow 15 minutes.
    Inbound(EventType.LISTING_READY, "ListingReadySchema", EventType.LISTING_REJECTED,
            subject=("shop_id", "product_id"), extra=("rrp",), queue=LISTINGS_QUEUE, time_limit=15 * MINUTE),
    Inbound(EventType.STOCK_CHANGED, "StockChangedSchema", EventType.STOCK_REJECTED,
            subject=("shop_id", "sku", "quantity"), queue=STOCK_QUEUE),
    # A tick is worth nothing once the next one is due: few short retries. A
    # stale tick is dropped by one rule, etsyflow.orders.tick.stale_after_seconds
    # (older than its poll interval: a newer one has been sent), not by max_age.
    Inbound(EventType.ORDERS_POLL_TICK, "OrdersPollTickSchema", EventType.EVENT_REJECTED,
            subject=(), queue=ORDERS_QUEUE, max_retries=3, min_backoff=5 * SECOND,
            max_backoff=MINUTE, time_limit=10 * MINUTE, skip_repeats=False),
    Inbound(EventType.ORDER_SHIPPED, "OrderShippedSchema", EventType.SHIPMENT_REJECTED,
            subject=("shop_id", "receipt_id"), extra=("tracking_number", "carrier", "parcel_id"),
            queue=FULFILMENT_QUEUE),
)}

INBOUND: frozenset[str] = frozenset(CONTRACT)
OUTBOUND: frozenset[str] = frozenset(t.value for t in EventType) - INBOUND
#: Every type that announces a refusal (counted by ``etsyflow_events_rejected_total``).
REJECTIONS: frozenset[str] = frozenset({EventType.EVENT_REJECTED} | {e.rejection for e in CONTRACT.values()})
#: The work queues, sorted.
QUEUES: list[str] = sorted({e.queue for e in CONTRACT.values()})


def entry_for(event_type: str | None) -> Inbound | None:
    """The contract entry of an inbound type (None for any other)."""
    return CONTRACT.get(event_type or "")


def bus_decimal(value: Decimal, places: int = 2) -> str:
    """Decimal -> the bus's decimal string (``"24.99"``), rounded half-even."""
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def _field(value):
    return bus_decimal(value) if isinstance(value, Decimal) else value


def _extra(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # money sent as a JSON number: the bus's form is a string
    return _field(value)


def rejection_data(entry: Inbound, event_type: str, event_id: str | None, data: dict, reason: str) -> dict:
    """The data of ``entry``'s rejection for an event refused with ``reason``.

    ``EventRejected`` carries the refused event's type and id and the reason as
    its one error; a typed rejection (``ListingRejected`` …) the subject fields
    and the reason. Either way the subject fields name what it is about, and
    ``extra`` fields are added when the event has them.
    """
    subject = {key: _field(data.get(key)) for key in entry.subject}
    extra = {key: _extra(data[key]) for key in entry.extra if data.get(key) not in (None, "")}
    if entry.rejection == EventType.EVENT_REJECTED:
        return {"type": event_type, "id": event_id, "errors": [{"field": "event", "message": reason}],
                **subject, **extra}
    return {**subject, "reason": reason, **extra}
