"""OrderShipped ↔ Etsy's ``createReceiptShipment`` body and ``ShopReceipt`` shipments.

The only module that knows both sides' field names for fulfilment:

* upstream (``OrderShipped``): ``carrier``, ``tracking_number``, ``shipped_at``,
  ``note_to_buyer``, ``parcel_id``;
* Etsy request (JSON body since May 2026): ``tracking_code``, ``carrier_name``,
  ``send_bcc``, ``note_to_buyer``, ``ship_date``;
* Etsy receipt: ``status``, ``shipments[]`` (``receipt_shipping_id``,
  ``carrier_name``, ``tracking_code``, ``shipment_notification_timestamp``);
* follow-up (``ShipmentConfirmed``): ``carrier``, ``tracking_number`` and the
  flags below.
"""

from __future__ import annotations

from datetime import datetime

from ..messages.contract import CONTRACT, rejection_data
from ..messages.types import EventType

from .tracking import CarrierChoice, clean_tracking, normalise_tracking

#: Etsy receipt statuses after which no shipment can be added.
CLOSED_STATUSES = {"canceled", "cancelled"}
#: Longest ``note_to_buyer`` sent (characters). Etsy documents no bound; 500 is
#: what the sandbox enforces and what OrderShipped accepts.
NOTE_MAX = 500


def ship_date(shipped_at: str | None) -> str | None:
    """``shipped_at`` (RFC 3339) → Etsy's ``ship_date``: the calendar date ``YYYY-MM-DD``.

    Etsy's document types ``ship_date`` as a string, "the date package was
    shipped", without a format; an ISO 8601 calendar date is the unambiguous
    choice. The date is taken in the offset the warehouse wrote
    ("2026-11-29T23:30:00-05:00" was shipped on the 29th where it was packed).
    """
    if not shipped_at:
        return None
    try:
        when = datetime.fromisoformat(shipped_at.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return when.date().isoformat()


def fallback_note(choice: CarrierChoice, tracking: str | None) -> str | None:
    """The line that keeps an unsupported carrier and its number in front of the buyer."""
    if not choice.fallback or not tracking:
        return None
    carrier = " ".join(choice.original.split())
    if carrier and carrier.casefold() != "other":
        return f"Shipped with {carrier}, tracking number {tracking}."
    return f"Tracking number {tracking}."


def note_to_buyer(upstream_note: str | None, choice: CarrierChoice, tracking: str | None) -> str | None:
    """The upstream's note, then the fallback line; the upstream's part is shortened
    (with "…") when both would exceed :data:`NOTE_MAX`: the tracking line always fits."""
    note = (upstream_note or "").strip()
    extra = fallback_note(choice, tracking)
    if extra and note and len(note) + 2 + len(extra) > NOTE_MAX:
        note = note[:max(0, NOTE_MAX - 2 - len(extra) - 1)].rstrip() + "…"
    parts = [p for p in (note, extra) if p]
    return "\n\n".join(parts)[:NOTE_MAX] or None


def shipment_request(data: dict, choice: CarrierChoice, *, send_bcc: bool) -> dict:
    """The ``createReceiptShipment`` JSON body for one parcel (None values left out).

    Without a tracking number neither ``tracking_code`` nor ``carrier_name`` is
    sent: Etsy then marks the receipt shipped only (and refuses where tracking
    is required: US orders over $10, shipments to India).
    """
    tracking = clean_tracking(data.get("tracking_number")) or None
    body = {
        "tracking_code": tracking,
        "carrier_name": choice.etsy_name if tracking else None,
        "send_bcc": bool(send_bcc),
        "note_to_buyer": note_to_buyer(data.get("note_to_buyer"), choice, tracking),
        "ship_date": ship_date(data.get("shipped_at")),
    }
    return {k: v for k, v in body.items() if v is not None}


# -- reading Etsy's receipt ------------------------------------------------------------

def receipt_status(receipt: dict) -> str:
    return str(receipt.get("status") or "").strip().lower()


def is_canceled(receipt: dict) -> bool:
    return receipt_status(receipt) in CLOSED_STATUSES


def shipments(receipt: dict) -> list[dict]:
    found = receipt.get("shipments") if isinstance(receipt, dict) else None
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []


def shipment_ids(receipt: dict) -> set:
    return {s.get("receipt_shipping_id") for s in shipments(receipt) if s.get("receipt_shipping_id") is not None}


def find_shipment(receipt: dict, tracking_key: str) -> dict | None:
    """The receipt's shipment whose tracking code is ``tracking_key`` (normalised), if any.

    Without a tracking key (an untracked parcel): the receipt's untracked
    shipment, if Etsy already recorded one.
    """
    for shipment in shipments(receipt):
        code = normalise_tracking(shipment.get("tracking_code") or "")
        if tracking_key and code == tracking_key:
            return shipment
        if not tracking_key and not code:
            return shipment
    return None


def new_shipment(before_ids: set, receipt_after: dict, tracking_key: str) -> dict | None:
    """The shipment our call created: by tracking code, else the one id that is new."""
    found = find_shipment(receipt_after, tracking_key) if tracking_key else None
    if found is not None:
        return found
    fresh = [s for s in shipments(receipt_after) if s.get("receipt_shipping_id") not in before_ids]
    return fresh[-1] if fresh else None


def confirmed_data(data: dict, choice: CarrierChoice, body: dict, shipment: dict | None, *,
                   already_recorded: bool) -> dict:
    """``ShipmentConfirmed`` data (contract fields first, then what tells the story).

    ``carrier`` is the Etsy carrier name used; ``tracking_kept`` says whether
    Etsy shows the tracking code on the shipment (False when Etsy dropped it).
    """
    tracking = body.get("tracking_code")
    shown = normalise_tracking((shipment or {}).get("tracking_code") or "")
    result = {
        "shop_id": data["shop_id"],
        "receipt_id": data["receipt_id"],
        "carrier": body.get("carrier_name") or (shipment or {}).get("carrier_name") or None,
        "tracking_number": tracking,
        "carrier_mapped": choice.mapped if tracking else False,
        "carrier_fallback": choice.fallback if tracking else False,
        "original_carrier": choice.original or None,
        "receipt_shipping_id": (shipment or {}).get("receipt_shipping_id"),
        "tracking_kept": bool(tracking) and shown == normalise_tracking(tracking),
        "already_recorded": already_recorded,
    }
    if data.get("parcel_id"):
        result["parcel_id"] = data["parcel_id"]
    if body.get("ship_date"):
        result["ship_date"] = body["ship_date"]
    return result


def rejected_data(data: dict, reason: str) -> dict:
    """``ShipmentRejected`` data: the contract's three fields plus what identifies the parcel."""
    return rejection_data(CONTRACT[EventType.ORDER_SHIPPED], EventType.ORDER_SHIPPED, None, data, reason)
