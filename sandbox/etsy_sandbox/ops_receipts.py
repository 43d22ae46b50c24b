"""Receipts (orders): listing with Etsy's filters, one receipt, shipments."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from . import render
from .errors import bad_request, conflict, not_found
from .forms import Params

ASCENDING = ("asc", "ascending", "up")
SORT_KEYS = {"created": "created", "updated": "updated", "receipt_id": "receipt_id"}
# Etsy's names for carriers it tracks; an unknown name makes Etsy drop the tracking code.
BUILTIN_CARRIERS = {
    "usps", "ups", "fedex", "dhl", "dhl-express", "dhl-germany", "royal-mail", "parcelforce", "canada-post",
    "australia-post", "la-poste", "colissimo", "deutsch-post", "hermes", "evri", "dpd", "dpd-uk", "gls",
    "yodel", "postnl", "bpost", "poste-italiane", "correos-spain", "japan-post", "india-post", "china-post",
    "an-post", "new-zealand-post", "swiss-post", "austrian-post", "other",
}
_CARRIERS: set[str] | None = None


def carriers() -> set[str]:
    """Supported carrier names: the built-in list plus Etsy's list in ``data/carriers.json``."""
    global _CARRIERS
    if _CARRIERS is None:
        names = set(BUILTIN_CARRIERS)
        path = Path(__file__).resolve().parent / "data" / "carriers.json"
        try:
            names |= {n.lower() for n in json.loads(path.read_text()).get("etsy_carriers", [])}
        except (OSError, ValueError, AttributeError):
            pass
        _CARRIERS = names
    return _CARRIERS


def _receipt(ctx, shop):
    rid = ctx.path_int("receipt_id")
    receipt = ctx.state.receipts.get(rid)
    if receipt is None or receipt["shop_id"] != shop["shop_id"]:
        raise not_found(f"Receipt {rid} not found in shop {shop['shop_id']}")
    return receipt


def getShopReceipts(ctx):
    q = ctx.query()
    bounds = {name: q.int(name, minimum=0) for name in ("min_created", "max_created", "min_last_modified",
                                                         "max_last_modified")}
    limit = q.int("limit", minimum=1, maximum=100, default=25)
    offset = q.int("offset", minimum=0, default=0)
    sort_on = q.enum("sort_on", tuple(SORT_KEYS), default="created")
    order = q.enum("sort_order", ("asc", "ascending", "desc", "descending", "up", "down"), default="desc")
    flags = {name: q.bool(name) for name in ("was_paid", "was_shipped", "was_delivered", "was_canceled")}
    key = SORT_KEYS[sort_on]
    with ctx.state.lock:
        shop = ctx.shop()
        rows = []
        for rid in ctx.state.receipts_by_shop.get(shop["shop_id"], []):
            r = ctx.state.receipts[rid]
            if bounds["min_created"] is not None and r["created"] < bounds["min_created"]:
                continue
            if bounds["max_created"] is not None and r["created"] > bounds["max_created"]:
                continue
            if bounds["min_last_modified"] is not None and r["updated"] < bounds["min_last_modified"]:
                continue
            if bounds["max_last_modified"] is not None and r["updated"] > bounds["max_last_modified"]:
                continue
            # Like Etsy: canceled receipts are left out unless was_canceled is asked for (#153, #629).
            if flags["was_canceled"] is None:
                if r["is_canceled"]:
                    continue
            elif r["is_canceled"] != flags["was_canceled"]:
                continue
            if flags["was_paid"] is not None and r["is_paid"] != flags["was_paid"]:
                continue
            if flags["was_shipped"] is not None and r["is_shipped"] != flags["was_shipped"]:
                continue
            if flags["was_delivered"] is not None and r["is_delivered"] != flags["was_delivered"]:
                continue
            rows.append(r)
        rows.sort(key=lambda r: (r[key], r["receipt_id"]), reverse=order not in ASCENDING)
        page = [render.receipt(r) for r in rows[offset:offset + limit]]
    return 200, {"count": len(rows), "results": page}


def getShopReceipt(ctx):
    with ctx.state.lock:
        return 200, render.receipt(_receipt(ctx, ctx.shop()))


def updateShopReceipt(ctx):
    params = ctx.form()
    was_shipped = params.bool("was_shipped")
    was_paid = params.bool("was_paid")
    with ctx.state.lock:
        receipt = _receipt(ctx, ctx.shop())
        if receipt["is_canceled"]:
            raise conflict("The receipt is canceled")
        changed = False
        if was_paid is not None and was_paid != receipt["is_paid"]:
            receipt["is_paid"] = was_paid
            receipt["paid_timestamp"] = int(time.time()) if was_paid else None
            changed = True
        if was_shipped is not None and was_shipped != receipt["is_shipped"]:
            receipt["is_shipped"] = was_shipped
            changed = True
        if changed:
            receipt["updated"] = int(time.time())
        return 200, render.receipt(receipt)


def parse_ship_date(value) -> int | None:
    """``ship_date`` as epoch seconds: an ISO date/datetime or epoch seconds; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"ship_date {text!r} is not a date (YYYY-MM-DD) or epoch seconds") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return int(parsed.timestamp())


def tracking_required(receipt: dict, shop: dict) -> bool:
    """Etsy requires tracking for US orders over $10 and for shipments to India."""
    if receipt["country_iso"] == "IN":
        return True
    return (receipt["country_iso"] == "US" and shop["country_iso"] == "US" and receipt["currency"] == "USD"
            and render.grandtotal_cents(receipt) > 1000)


def add_shipment(state, receipt, carrier_name, tracking_code, ship_date, *, note=None, send_bcc=False,
                 via="api"):
    now = int(time.time())
    shipment = {"receipt_shipping_id": state.next_id("shipment"), "shipment_notification_timestamp": now,
                "carrier_name": carrier_name, "tracking_code": tracking_code}
    receipt["shipments"].append(shipment)
    receipt["is_shipped"] = True
    for transaction in receipt["transactions"]:
        transaction["shipped_timestamp"] = ship_date or now
    receipt["updated"] = now
    receipt["notifications"].append({"kind": "shipped", "to": receipt["buyer_email"], "time": now, "via": via,
                                     "carrier_name": carrier_name, "tracking_code": tracking_code,
                                     "note_to_buyer": note, "send_bcc": send_bcc, "ship_date": ship_date})
    return shipment


def createReceiptShipment(ctx):
    # JSON since May 2026 (NOTES.md); a form body is still read when strict mode is off.
    if (ctx.request.mimetype or "").endswith("json"):
        params = Params.from_json(ctx.json())
    else:
        params = ctx.form()
    tracking_code = (params.str("tracking_code") or "").strip()
    carrier_name = (params.str("carrier_name") or "").strip()
    send_bcc = params.bool("send_bcc", default=False)
    note = params.str("note_to_buyer")
    if note is not None and len(note) > 500:
        raise bad_request("note_to_buyer must be at most 500 characters")
    ship_date = parse_ship_date(params.str("ship_date"))
    if tracking_code and not carrier_name:
        raise bad_request("carrier_name is required when tracking_code is given")
    with ctx.state.lock:
        shop = ctx.shop()
        receipt = _receipt(ctx, shop)
        if receipt["is_canceled"]:
            raise conflict(f"Receipt {receipt['receipt_id']} is canceled; no shipment can be added")
        if not tracking_code and tracking_required(receipt, shop):
            raise bad_request("tracking_code is required for this order (US orders over $10 and shipments to India)")
        if carrier_name and carrier_name.lower() not in carriers():
            # Etsy keeps no tracking code for a carrier it does not know (#135, #569, #465).
            carrier_name, tracking_code = "other", ""
        add_shipment(ctx.state, receipt, carrier_name.lower() if carrier_name else "", tracking_code, ship_date,
                     note=note, send_bcc=send_bcc)
        return 200, render.receipt(receipt)
