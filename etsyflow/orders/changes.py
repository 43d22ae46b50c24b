"""What changed between two states of one order: the ``changes[]`` of ``OrderUpdated``.

Works on the compact snapshots of :func:`etsyflow.schemas.orders.snapshot`
(the state etsyflow last published and the state just read). Names, in the
order they are listed:

==================  ===========================================================
``paid``            the buyer's payment arrived
``shipped``         the receipt is now marked shipped (by etsyflow or elsewhere,
                    e.g. in Etsy's own shop manager)
``tracking_added``  a shipment with a tracking number the order did not have
``shipment_changed``shipments changed otherwise (carrier fix, notification time)
``ship_date_changed``the expected or actual ship date of an item moved (Etsy does
                    not bump the modification time for it, etsy/open-api#232: a reconcile finds it)
``canceled``        the order was canceled
``uncanceled``      a canceled order is active again
``refunded``        a new refund (the order ``status`` tells full or partial)
``status_changed``  the status moved in a way none of the above explains
                    (e.g. ``paid`` → ``completed``)
``address_changed`` the shipping address changed
``buyer_changed``   the buyer's name or e-mail changed (e-mail granted later)
``items_changed``   products, quantities, prices, variations or personalization
``totals_changed``  totals changed
``messages_changed``gift or buyer message changed
``other``           something else upstream sees changed
==================  ===========================================================
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Mapping

CANCELED = "canceled"
REFUND_STATUSES = {"fully_refunded", "partially_refunded"}


def _amount(value) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def classify(before: Mapping, after: Mapping) -> list[str]:
    """The change names from snapshot ``before`` to ``after`` (never empty when they differ)."""
    changes: list[str] = []
    if not before.get("paid") and after.get("paid"):
        changes.append("paid")
    if not before.get("shipped") and after.get("shipped"):
        changes.append("shipped")
    if set(after.get("tracking") or []) - set(before.get("tracking") or []):
        changes.append("tracking_added")
    elif before.get("shipments") != after.get("shipments"):
        changes.append("shipment_changed")
    if before.get("ship_dates") != after.get("ship_dates") and not {"shipped", "tracking_added"} & set(changes):
        changes.append("ship_date_changed")
    old_status, new_status = before.get("status"), after.get("status")
    if new_status == CANCELED and old_status != CANCELED:
        changes.append("canceled")
    if old_status == CANCELED and new_status != CANCELED:
        changes.append("uncanceled")
    refunded = (_amount(after.get("refunded")) > _amount(before.get("refunded"))
                or int(after.get("refunds") or 0) > int(before.get("refunds") or 0)
                or (new_status in REFUND_STATUSES and new_status != old_status))
    if refunded:
        changes.append("refunded")
    explained = {"paid", "shipped", "canceled", "uncanceled", "refunded"} & set(changes)
    if old_status != new_status and not explained:
        changes.append("status_changed")
    for key, name in (("address", "address_changed"), ("buyer", "buyer_changed"), ("items", "items_changed"),
                      ("totals", "totals_changed"), ("messages", "messages_changed")):
        if before.get(key) != after.get(key):
            changes.append(name)
    if not changes and dict(before) != dict(after):
        changes.append("other")
    return changes
