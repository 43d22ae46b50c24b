"""Etsy receipt (``ShopReceipt`` with embedded transactions, shipments, refunds) → contract ``order``.

The only place that knows Etsy's receipt field names next to the contract's.
Everything here is pure: no I/O, no clock. Facts it follows (NOTES.md):

- money is ``{amount, divisor, currency_code}`` → decimal string (``"24.99"``);
- Etsy v3 sends no billing address: it is replicated from the shipping
  address and marked ``source: "shipping"``;
- ``buyer_email`` may be null and address fields may be withheld: they stay None;
- ``product_data`` can be empty (etsy/open-api#476): variations and personalization are
  read from the transaction's ``variations``; ``product_data`` is only a
  fallback for the variations;
- times are epoch seconds at Etsy, RFC 3339 UTC on the bus.

``order`` beyond the contract (additive, documented in the README):
``is_paid``, ``is_shipped``, ``is_gift``, ``gift_sender``, ``refunds[]``
(``amount``, ``created_at``, ``reason``, ``status``), ``refunded_total``,
``totals.vat`` and ``totals.gift_wrap``, ``items[].shipping_cost``,
``items[].expected_ship_date`` and ``items[].shipped_at``.

Totals: ``subtotal`` is Etsy's ``total_price`` (items before discounts),
``discount`` Etsy's ``discount_amt``, ``tax`` Etsy's ``total_tax_cost``,
``vat`` its ``total_vat_cost``, ``grand_total`` Etsy's ``grandtotal``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..etsy.money import MoneyError, format_decimal, money_to_decimal

# Etsy's receipt statuses → the contract's status (lower case, underscores).
STATUSES = {
    "open": "open",
    "payment processing": "payment_processing",
    "paid": "paid",
    "completed": "completed",
    "canceled": "canceled",
    "fully refunded": "fully_refunded",
    "partially refunded": "partially_refunded",
}
CANCELED = "canceled"
# Etsy's property id for the buyer's personalization text (older receipts);
# newer ones carry a ``question_id`` instead.
PERSONALIZATION_PROPERTY_ID = 54


class ReceiptError(ValueError):
    """A receipt that cannot be turned into an order; the reason names the field."""


def rfc3339(epoch: Any) -> str | None:
    """Epoch seconds → ``2026-11-29T12:00:00Z``; None (or garbage) stays None."""
    if epoch is None or isinstance(epoch, bool):
        return None
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc).isoformat().replace("+00:00", "Z")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _money(value: Mapping | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        amount = money_to_decimal(value)
    except MoneyError as error:
        raise ReceiptError(f"{field}: {error}") from None
    return format_decimal(amount) if amount is not None else None


def _text(value: Any) -> str | None:
    """Etsy sends "" for absent texts (gift message, second line): None on the bus."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _address(receipt: Mapping) -> dict:
    return {
        "name": _text(receipt.get("name")),
        "line1": _text(receipt.get("first_line")),
        "line2": _text(receipt.get("second_line")),
        "city": _text(receipt.get("city")),
        "state": _text(receipt.get("state")),
        "postcode": _text(receipt.get("zip")),
        "country_iso": _text(receipt.get("country_iso")),
    }


def _is_personalization(variation: Mapping) -> bool:
    if variation.get("question_id") is not None:
        return True
    if _int(variation.get("property_id")) == PERSONALIZATION_PROPERTY_ID:
        return True
    return str(variation.get("formatted_name") or "").strip().lower().startswith("personali")


def _variations(transaction: Mapping) -> tuple[list[dict], str | None]:
    """(variations, personalization) of one transaction."""
    chosen: list[dict] = []
    personal: list[str] = []
    for variation in transaction.get("variations") or []:
        if not isinstance(variation, Mapping):
            continue
        value = _text(variation.get("formatted_value"))
        if _is_personalization(variation):
            if value:
                personal.append(value)
            continue
        name = _text(variation.get("formatted_name"))
        if name or value:
            chosen.append({"name": name, "value": value})
    if not chosen:  # fallback: the product's property values, when Etsy sent them
        for prop in transaction.get("product_data") or []:
            if not isinstance(prop, Mapping):
                continue
            values = [str(v) for v in prop.get("values") or [] if v not in (None, "")]
            name = _text(prop.get("property_name"))
            if name and values:
                chosen.append({"name": name, "value": ", ".join(values)})
    return chosen, ("\n".join(personal) if personal else None)


def _item(transaction: Mapping, index: int) -> dict:
    variations, personalization = _variations(transaction)
    return {
        "transaction_id": _int(transaction.get("transaction_id")),
        "listing_id": _int(transaction.get("listing_id")),
        "product_id": _int(transaction.get("product_id")),
        "sku": _text(transaction.get("sku")),
        "title": _text(transaction.get("title")),
        "quantity": _int(transaction.get("quantity")) or 0,
        "unit_price": _money(transaction.get("price"), f"transactions[{index}].price"),
        "shipping_cost": _money(transaction.get("shipping_cost"), f"transactions[{index}].shipping_cost"),
        "variations": variations,
        "personalization": personalization,
        "expected_ship_date": rfc3339(transaction.get("expected_ship_date")),
        "shipped_at": rfc3339(transaction.get("shipped_timestamp")),
    }


def _shipment(shipment: Mapping) -> dict:
    return {
        "carrier": _text(shipment.get("carrier_name")),
        "tracking_number": _text(shipment.get("tracking_code")),
        "shipped_at": rfc3339(shipment.get("shipment_notification_timestamp")),
    }


def _refund(refund: Mapping, index: int) -> dict:
    return {
        "amount": _money(refund.get("amount"), f"refunds[{index}].amount"),
        "created_at": rfc3339(refund.get("created_timestamp")),
        "reason": _text(refund.get("reason")),
        "status": _text(refund.get("status")),
    }


def _currency(receipt: Mapping) -> str | None:
    for name in ("grandtotal", "subtotal", "total_price"):
        money = receipt.get(name)
        if isinstance(money, Mapping) and money.get("currency_code"):
            return str(money["currency_code"])
    return None


def receipt_to_order(receipt: Mapping) -> dict:
    """One ``ShopReceipt`` → the contract ``order``. Raises :class:`ReceiptError` when unusable."""
    if not isinstance(receipt, Mapping):
        raise ReceiptError(f"a receipt must be an object, got {type(receipt).__name__}")
    receipt_id = _int(receipt.get("receipt_id"))
    if not receipt_id or receipt_id < 1:
        raise ReceiptError(f"receipt_id: missing or not a positive number ({receipt.get('receipt_id')!r})")
    raw_status = str(receipt.get("status") or "").strip().lower()
    shipping = _address(receipt)
    refunds = [_refund(r, i) for i, r in enumerate(receipt.get("refunds") or []) if isinstance(r, Mapping)]
    refunded = sum((Decimal(r["amount"]) for r in refunds if r["amount"] is not None), Decimal(0))
    return {
        "receipt_id": receipt_id,
        "status": STATUSES.get(raw_status, raw_status.replace(" ", "_") or None),
        "is_paid": bool(receipt.get("is_paid")),
        "is_shipped": bool(receipt.get("is_shipped")),
        "created_at": rfc3339(receipt.get("created_timestamp", receipt.get("create_timestamp"))),
        "updated_at": rfc3339(receipt.get("updated_timestamp", receipt.get("update_timestamp"))),
        "buyer": {
            "user_id": _int(receipt.get("buyer_user_id")),
            "name": _text(receipt.get("name")),
            "email": _text(receipt.get("buyer_email")),
        },
        "shipping_address": shipping,
        "billing_address": {**shipping, "source": "shipping"},
        "totals": {
            "subtotal": _money(receipt.get("total_price"), "total_price"),
            "shipping": _money(receipt.get("total_shipping_cost"), "total_shipping_cost"),
            "tax": _money(receipt.get("total_tax_cost"), "total_tax_cost"),
            "vat": _money(receipt.get("total_vat_cost"), "total_vat_cost"),
            "gift_wrap": _money(receipt.get("gift_wrap_price"), "gift_wrap_price"),
            "discount": _money(receipt.get("discount_amt"), "discount_amt"),
            "grand_total": _money(receipt.get("grandtotal"), "grandtotal"),
            "currency": _currency(receipt),
        },
        "items": [_item(t, i) for i, t in enumerate(receipt.get("transactions") or []) if isinstance(t, Mapping)],
        "shipments": [_shipment(s) for s in receipt.get("shipments") or [] if isinstance(s, Mapping)],
        "refunds": refunds,
        "refunded_total": format_decimal(refunded),
        "is_gift": bool(receipt.get("is_gift")),
        "gift_message": _text(receipt.get("gift_message")),
        "gift_sender": _text(receipt.get("gift_sender")),
        "buyer_message": _text(receipt.get("message_from_buyer")),
    }


def receipt_modified_at(receipt: Mapping) -> int | None:
    """Etsy's last-modified time of a receipt (epoch seconds), for the poll cursor."""
    return _int(receipt.get("updated_timestamp", receipt.get("update_timestamp")))


def receipt_created_at(receipt: Mapping) -> int | None:
    """Etsy's creation time of a receipt (epoch seconds)."""
    return _int(receipt.get("created_timestamp", receipt.get("create_timestamp")))


def receipt_id_of(receipt: Any) -> int | None:
    return _int(receipt.get("receipt_id")) if isinstance(receipt, Mapping) else None


# -- what identifies a state of an order ------------------------------------------------

def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def _digest(value: Any, size: int = 16) -> str:
    return hashlib.sha256(_canonical(value)).hexdigest()[:size]


def fingerprint(order: Mapping) -> str:
    """A short digest of everything upstream sees in ``order`` except ``updated_at``.

    Etsy bumps ``updated_timestamp`` for things the order does not show, so two
    reads that differ only there are the same state (no ``OrderUpdated``).
    """
    return _digest({k: v for k, v in order.items() if k != "updated_at"}, 20)


def snapshot(order: Mapping) -> dict:
    """The compact state kept per receipt to tell *what* changed next time.

    Personal data (address, buyer, messages) is kept as digests only.
    """
    return {
        "status": order.get("status"),
        "paid": bool(order.get("is_paid")),
        "shipped": bool(order.get("is_shipped")),
        "tracking": sorted(f"{s.get('carrier') or ''}|{s.get('tracking_number') or ''}"
                           for s in order.get("shipments") or [] if s.get("tracking_number")),
        "shipments": _digest(order.get("shipments") or [], 12),
        "refunded": order.get("refunded_total") or "0.00",
        "refunds": len(order.get("refunds") or []),
        "address": _digest(order.get("shipping_address"), 12),
        "buyer": _digest(order.get("buyer"), 12),
        "items": _digest([{k: v for k, v in i.items() if k not in ("expected_ship_date", "shipped_at")}
                          for i in order.get("items") or []], 12),
        "ship_dates": _digest([[i.get("expected_ship_date"), i.get("shipped_at")] for i in order.get("items") or []],
                              12),
        "totals": _digest(order.get("totals"), 12),
        "messages": _digest([order.get("gift_message"), order.get("buyer_message"), order.get("gift_sender"),
                             order.get("is_gift")], 12),
    }


# -- the contract shape, for subscribers and tests ----------------------------------------

class _Out(Schema):
    class Meta:
        unknown = EXCLUDE


def _decimal_string(value):
    if value is None:
        return
    if not isinstance(value, str):
        raise ValidationError("must be a decimal string")
    try:
        Decimal(value)
    except Exception:
        raise ValidationError("must be a decimal string") from None


class AddressSchema(_Out):
    name = fields.String(allow_none=True, required=True)
    line1 = fields.String(allow_none=True, required=True)
    line2 = fields.String(allow_none=True, required=True)
    city = fields.String(allow_none=True, required=True)
    state = fields.String(allow_none=True, required=True)
    postcode = fields.String(allow_none=True, required=True)
    country_iso = fields.String(allow_none=True, required=True)


class BillingAddressSchema(AddressSchema):
    source = fields.String(required=True, validate=validate.OneOf(["etsy", "shipping"]))


class BuyerSchema(_Out):
    user_id = fields.Integer(allow_none=True, required=True)
    name = fields.String(allow_none=True, required=True)
    email = fields.String(allow_none=True, required=True)


class TotalsSchema(_Out):
    subtotal = fields.String(allow_none=True, required=True, validate=_decimal_string)
    shipping = fields.String(allow_none=True, required=True, validate=_decimal_string)
    tax = fields.String(allow_none=True, required=True, validate=_decimal_string)
    discount = fields.String(allow_none=True, required=True, validate=_decimal_string)
    grand_total = fields.String(allow_none=True, required=True, validate=_decimal_string)
    currency = fields.String(allow_none=True, required=True)


class VariationSchema(_Out):
    name = fields.String(allow_none=True, required=True)
    value = fields.String(allow_none=True, required=True)


class ItemSchema(_Out):
    transaction_id = fields.Integer(allow_none=True, required=True)
    listing_id = fields.Integer(allow_none=True, required=True)
    product_id = fields.Integer(allow_none=True, required=True)
    sku = fields.String(allow_none=True, required=True)
    title = fields.String(allow_none=True, required=True)
    quantity = fields.Integer(required=True)
    unit_price = fields.String(allow_none=True, required=True, validate=_decimal_string)
    variations = fields.List(fields.Nested(VariationSchema), required=True)
    personalization = fields.String(allow_none=True, required=True)


class ShipmentSchema(_Out):
    carrier = fields.String(allow_none=True, required=True)
    tracking_number = fields.String(allow_none=True, required=True)
    shipped_at = fields.String(allow_none=True, required=True)


class OrderSchema(_Out):
    """The contract ``order`` (ARCHITECTURE.md); ``OrderSchema().validate(order)`` lists what is off."""

    receipt_id = fields.Integer(required=True, validate=validate.Range(min=1))
    status = fields.String(allow_none=True, required=True)
    created_at = fields.String(allow_none=True, required=True)
    updated_at = fields.String(allow_none=True, required=True)
    buyer = fields.Nested(BuyerSchema, required=True)
    shipping_address = fields.Nested(AddressSchema, required=True)
    billing_address = fields.Nested(BillingAddressSchema, required=True)
    totals = fields.Nested(TotalsSchema, required=True)
    items = fields.List(fields.Nested(ItemSchema), required=True)
    shipments = fields.List(fields.Nested(ShipmentSchema), required=True)
    gift_message = fields.String(allow_none=True, required=True)
    buyer_message = fields.String(allow_none=True, required=True)


# -- the getShopReceipts queries a poll makes ---------------------------------------------

#: Etsy's largest page of receipts.
PAGE_SIZE = 100


def modified_since_query(min_last_modified: int, *, offset: int = 0, canceled: bool | None = None) -> dict:
    """Receipts modified at or after ``min_last_modified`` (epoch s), oldest change first.

    ``canceled=True`` asks for the canceled ones only: Etsy leaves them out of an
    unfiltered list (#153, #629), so a poll asks for them separately.
    """
    query = {"min_last_modified": int(min_last_modified), "sort_on": "updated", "sort_order": "asc",
             "limit": PAGE_SIZE, "offset": int(offset)}
    if canceled is not None:
        query["was_canceled"] = bool(canceled)
    return query


def created_since_query(min_created: int, *, offset: int = 0, canceled: bool | None = None) -> dict:
    """Receipts created at or after ``min_created`` (epoch s), oldest first.

    ``canceled=True`` asks for the canceled ones only: Etsy can leave them out
    of an unfiltered list (etsy/open-api#153, etsy/open-api#629).
    """
    query = {"min_created": int(min_created), "sort_on": "created", "sort_order": "asc",
             "limit": PAGE_SIZE, "offset": int(offset)}
    if canceled is not None:
        query["was_canceled"] = bool(canceled)
    return query


def page_results(page: Any) -> list:
    """The receipts of one ``{count, results}`` page (anything else → empty)."""
    if not isinstance(page, Mapping):
        return []
    results = page.get("results")
    return list(results) if isinstance(results, list) else []
