"""Send one parcel to Etsy exactly once: check, lock, write (reading the receipt only when needed), record.

Etsy has no idempotency key for ``createReceiptShipment`` and every call adds
a shipment and e-mails the buyer, so "exactly once per parcel" is built here:

1. the parcel's record says *confirmed* → answer from the record, no Etsy call
   (the same event redelivered, or the same parcel under a new event id);
2. otherwise take the parcel's lock (two concurrent deliveries: the second
   waits, then finds the record confirmed);
3. no record: nothing was ever sent for this parcel → write at once, **one
   Etsy call per new shipment** (the record is marked *pending* first, so a
   write whose answer is lost is never taken for a new parcel);
4. a record *pending* (an earlier write's outcome is unknown: timeout, dropped
   connection, worker killed) → read the receipt (``getShopReceipt``): a
   shipment with the same tracking code (normalised) is already there →
   record it, no write; none yet → wait until :data:`SETTLE_SECONDS` after
   that attempt ended (``WRITE_SETTLE_SECONDS``; the message is retried with
   that delay) before writing again, so a slow Etsy that applies late is seen first;
5. write once (``createReceiptShipment`` with a single attempt: the client's
   in-call retries are off for this call, a retry always starts again at 1);
6. Etsy answers 409 (the receipt changed: canceled, or shipped meanwhile) →
   read the receipt to tell which: our parcel already there → recorded; else
   the refusal, with the receipt's status.

The record is the only memory of a parcel sent: a parcel whose record was
lost (Redis lost without persistence, or an upstream resend after
:data:`~.ledger.RECORD_TTL_SECONDS`) would be written again.

Etsy's refusals become :class:`~etsyflow.messages.Refused` with a reason
for the warehouse (``ShipmentRejected``), never a retry loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..config import get_settings
from ..config.logging import get_logger
from ..etsy.errors import AuthFailed, PermanentError, RateLimited
from ..etsy.transport import longest_call_seconds
from ..messages import Refused, RetryLater
from ..schemas import shipments as mapping
from ..shops import ShopStore, clients
from .carriers import normalise_tracking, resolve_carrier
from .ledger import ParcelBusy, ParcelLedger, parcel_ref

#: After a write whose outcome is unknown, how long Etsy is given to show it
#: on the receipt before we write again (seconds, from the end of that attempt);
#: the setting WRITE_SETTLE_SECONDS overrides it.
SETTLE_SECONDS = 10.0


@dataclass
class Outcome:
    """What happened to one parcel: the ``ShipmentConfirmed`` data and the parcel's key."""

    confirmed: dict
    ref: str
    wrote: bool


class ShipmentSender:
    """Etsy calls go through ``reader`` (normal in-call retries) and ``writer``
    (one attempt); both default to :func:`etsyflow.shops.clients` for the shop."""

    def __init__(self, *, settings=None, ledger: ParcelLedger | None = None, store=None,
                 client_factory=None, settle_seconds: float | None = None, log=None):
        if settings is None:
            settings = get_settings()
        self.settings = settings
        self.ledger = ledger or ParcelLedger()
        self._store = store
        self._client_factory = client_factory or clients
        if settle_seconds is None:
            settle_seconds = getattr(settings, "write_settle_seconds", SETTLE_SECONDS)
        self.settle_seconds = float(settle_seconds)
        if log is None:
            log = get_logger("etsyflow.fulfilment")
        self.log = log

    @property
    def store(self):
        if self._store is None:
            self._store = ShopStore()
        return self._store

    def send(self, data: dict, event_id: str) -> Outcome:
        shop_id, receipt_id = int(data["shop_id"]), int(data["receipt_id"])
        tracking_key = normalise_tracking(data.get("tracking_number"))
        ref = parcel_ref(tracking_key, data.get("parcel_id"))
        key = self.ledger.record_key(shop_id, receipt_id, ref)

        recorded = self._from_record(key, ref)
        if recorded is not None:
            return recorded
        choice = resolve_carrier(data.get("carrier"), self.settings)
        with self.ledger.lock(shop_id, receipt_id, ref) as held:
            recorded = self._from_record(key, ref)
            if recorded is not None:
                return recorded
            record = self.ledger.get(key)
            reader, writer = self._client_factory(shop_id)
            body = mapping.shipment_request(data, choice, send_bcc=self._send_bcc(shop_id))
            before = None  # the receipt's shipment ids before our write: unknown unless read
            if record is not None and record.pending:  # an earlier write's outcome is unknown: look first
                receipt = self._read_receipt(reader, shop_id, receipt_id)
                found = self._already_there(receipt, tracking_key, record, body, data, choice, key, event_id, ref)
                if found is not None:
                    return found
                if mapping.is_canceled(receipt):
                    raise Refused(_canceled(receipt, receipt_id))
                self._wait_for_settle(record, receipt_id, ref)
                before = mapping.shipment_ids(receipt)

            if not held.renew():
                raise ParcelBusy(f"lost the lock of parcel {ref} before writing; will re-check")
            self.ledger.mark_pending(key, event_id, before)
            try:
                after = writer.create_receipt_shipment(receipt_id, **body)
            except PermanentError as error:
                self._not_sent(key, record)  # refused: Etsy did not carry it out
                if error.status == 409:  # the receipt changed under us: read it to say what happened
                    receipt = self._read_receipt(reader, shop_id, receipt_id)
                    found = self._already_there(receipt, tracking_key, record, body, data, choice, key, event_id,
                                                ref)
                    if found is not None:
                        return found
                    if mapping.is_canceled(receipt):
                        raise Refused(_canceled(receipt, receipt_id)) from None
                raise Refused(_refusal(error, receipt_id, shop_id)) from None
            except (RateLimited, AuthFailed):
                self._not_sent(key, record)  # Etsy did not carry it out
                raise
            except BaseException:
                self.ledger.mark_attempt_ended(key)  # may have reached Etsy: re-check before writing again
                raise
            shipment = mapping.new_shipment(before or set(), after if isinstance(after, dict) else {}, tracking_key)
            confirmed = mapping.confirmed_data(data, choice, body, shipment, already_recorded=False)
            self.ledger.mark_confirmed(key, event_id, confirmed)
            self.log.info("shipment sent to Etsy", receipt_id=receipt_id, parcel=ref, carrier=body.get("carrier_name"),
                          carrier_fallback=confirmed["carrier_fallback"],
                          receipt_shipping_id=confirmed.get("receipt_shipping_id"))
            return Outcome(confirmed, ref, wrote=True)

    def _already_there(self, receipt, tracking_key, record, body, data, choice, key, event_id, ref) -> Outcome | None:
        """Our parcel found on the receipt (an earlier write that Etsy carried out) → recorded; else None."""
        existing = mapping.find_shipment(receipt, tracking_key)
        if existing is None and record is not None and record.pending:
            existing = _ours_without_tracking(receipt, record.before_ids, body)
        if existing is None:
            return None
        confirmed = mapping.confirmed_data(data, choice, body, existing, already_recorded=True)
        self.ledger.mark_confirmed(key, event_id, confirmed)
        self.log.info("shipment already on Etsy; not sent again", receipt_id=data["receipt_id"], parcel=ref,
                      receipt_shipping_id=confirmed.get("receipt_shipping_id"))
        return Outcome(confirmed, ref, wrote=False)

    # -- steps ---------------------------------------------------------------------------
    def _from_record(self, key: str, ref: str) -> Outcome | None:
        record = self.ledger.get(key)
        if record is None or not record.confirmed or not record.result:
            return None
        return Outcome(dict(record.result, already_recorded=True), ref, wrote=False)

    def _read_receipt(self, reader, shop_id: int, receipt_id: int) -> dict:
        try:
            receipt = reader.get_shop_receipt(receipt_id)
        except PermanentError as error:
            if error.status == 404:
                raise Refused(f"receipt {receipt_id} does not exist in shop {shop_id} on Etsy "
                               f"({error.reason})") from None
            raise Refused(f"Etsy refused to show receipt {receipt_id}: {error.reason}") from None
        if not isinstance(receipt, dict):
            raise Refused(f"Etsy answered receipt {receipt_id} with no receipt")
        return receipt

    def _send_bcc(self, shop_id: int) -> bool:
        shop = self.store.get(shop_id)
        return bool(shop and shop.send_bcc)

    def _wait_for_settle(self, record, receipt_id: int, ref: str) -> None:
        ended = record.attempt_ended_at
        if ended is None:  # the worker died mid-write: assume the longest write
            ended = (record.attempted_at or 0.0) + longest_call_seconds(self.settings)
        remaining = ended + self.settle_seconds - time.time()
        if remaining > 0:
            self.log.info("earlier write's outcome unknown; re-checking the receipt later", receipt_id=receipt_id,
                          parcel=ref, retry_in_seconds=round(remaining, 1))
            raise RetryLater(remaining + 0.001, f"waiting {remaining:.1f} s for Etsy to show an earlier write")

    def _not_sent(self, key: str, record) -> None:
        if record is None:
            self.ledger.forget(key)
        elif record.pending:
            self.ledger.mark_attempt_ended(key)  # an older unknown attempt stays unknown


def _ours_without_tracking(receipt: dict, before: frozenset | None, body: dict) -> dict | None:
    """After an unknown write: a shipment that appeared since, with our carrier and no
    tracking code — Etsy dropped the tracking (a carrier name it did not take).

    ``before`` None (the write went out without reading the receipt): any such
    shipment is taken for ours — never a second write, at the risk of taking an
    older untracked shipment of the same carrier for this parcel.
    """
    if not body.get("tracking_code"):
        return None  # untracked parcels are matched by find_shipment already
    for shipment in mapping.shipments(receipt):
        if before is not None and shipment.get("receipt_shipping_id") in before:
            continue
        if not (shipment.get("tracking_code") or "").strip() and \
                shipment.get("carrier_name") == body.get("carrier_name"):
            return shipment
    return None


def _canceled(receipt: dict, receipt_id: int) -> str:
    return (f"receipt {receipt_id} is canceled on Etsy: no shipment can be added "
            f"(status {mapping.receipt_status(receipt)!r})")


def _refusal(error: PermanentError, receipt_id: int, shop_id: int) -> str:
    reason = error.reason
    lowered = reason.lower()
    if error.status == 404:
        return f"receipt {receipt_id} does not exist in shop {shop_id} on Etsy ({reason})"
    if "tracking" in lowered and "required" in lowered:
        return (f"Etsy requires a tracking number for receipt {receipt_id} (orders shipped within the US "
                f"over $10 and shipments to India): {reason}")
    if "cancel" in lowered:
        return f"receipt {receipt_id} is canceled on Etsy: {reason}"
    return f"Etsy refused the shipment for receipt {receipt_id}: {reason}"
