"""Receipts with every filter Etsy has, embedded transactions/shipments/refunds, and shipments."""

from __future__ import annotations

import time

from .conftest import setup_listing


def _ids(reply):
    assert reply.status_code == 200, reply.text
    return [r["receipt_id"] for r in reply.json()["results"]]


def test_receipt_from_a_listing_embeds_everything(sandbox, shop, etsy):
    made = setup_listing(etsy, shop)
    rid = made["readiness_state_id"]
    etsy.put(f"/listings/{made['listing_id']}/inventory", json={"products": [
        {"sku": "D-RED-S", "property_values": [{"property_id": 200, "value_ids": [9], "values": ["Red"]}],
         "offerings": [{"price": 24.99, "quantity": 4, "is_enabled": True, "readiness_state_id": rid}]},
        {"sku": "D-BLK-S", "property_values": [{"property_id": 200, "value_ids": [1], "values": ["Black"]}],
         "offerings": [{"price": 24.99, "quantity": 4, "is_enabled": True, "readiness_state_id": rid}]}],
        "sku_on_property": [200], "quantity_on_property": [200]})
    receipt = sandbox.admin.create_receipt(
        shop["shop_id"], items=[{"sku": "D-BLK-S", "quantity": 2, "personalization": "For Ann"},
                                {"title": "Gift card", "price": "5.00", "free": True}],
        buyer_email=None, shipping_cost="4.50", gift_message="Happy birthday", country_iso="GB",
        address={"name": "Ann Buyer", "first_line": "1 High St", "city": "London", "zip": "N1 1AA",
                 "country_iso": "GB"})
    got = etsy.get(f"/shops/{shop['shop_id']}/receipts/{receipt['receipt_id']}").json()
    assert got["buyer_email"] is None and got["is_gift"] and got["gift_message"] == "Happy birthday"
    assert got["status"] == "paid" and got["is_paid"] and not got["is_shipped"]
    assert got["subtotal"] == {"amount": 2 * 2499 + 500, "divisor": 100, "currency_code": "USD"}
    assert got["grandtotal"]["amount"] == 2 * 2499 + 500 + 450
    first, second = got["transactions"]
    assert first["sku"] == "D-BLK-S" and first["listing_id"] == made["listing_id"] and first["quantity"] == 2
    assert {"property_id": 200, "value_id": 1, "formatted_name": "Primary color", "formatted_value": "Black",
            "question_id": None} in first["variations"]
    assert any(v["formatted_name"] == "Personalization" and v["formatted_value"] == "For Ann"
               for v in first["variations"])
    assert second["listing_id"] is None and second["title"] == "Gift card"
    assert got["shipments"] == [] and got["refunds"] == []
    # Stock went down like on Etsy.
    inventory = etsy.get(f"/listings/{made['listing_id']}/inventory").json()
    assert [p["offerings"][0]["quantity"] for p in inventory["products"]] == [4, 2]


def test_filters_sorting_and_paging(sandbox, shop, etsy):
    sid = shop["shop_id"]
    base = 1_790_000_000
    made = sandbox.admin.bulk_receipts(sid, 30, created_start=base, step_seconds=10)["receipt_ids"]
    unpaid = sandbox.admin.create_receipt(sid, was_paid=False, created_timestamp=base + 1000)["receipt_id"]
    url = f"/shops/{sid}/receipts"
    page = etsy.get(url).json()
    assert page["count"] == 31 and len(page["results"]) == 25  # default limit 25, newest first
    assert page["results"][0]["receipt_id"] == unpaid
    asc = _ids(etsy.get(url, params={"sort_on": "created", "sort_order": "asc", "limit": 5, "offset": 5}))
    assert asc == made[5:10]
    window = etsy.get(url, params={"min_created": base + 100, "max_created": base + 190, "limit": 100})
    assert sorted(_ids(window)) == made[10:20]
    assert _ids(etsy.get(url, params={"was_paid": "false"})) == [unpaid]
    assert len(_ids(etsy.get(url, params={"was_paid": "true", "limit": 100}))) == 30
    sandbox.admin.receipt_action(made[0], "ship", carrier_name="usps", tracking_code="9400111")
    assert _ids(etsy.get(url, params={"was_shipped": "true"})) == [made[0]]
    sandbox.admin.receipt_action(made[0], "deliver")
    assert _ids(etsy.get(url, params={"was_delivered": "true"})) == [made[0]]
    by_update = _ids(etsy.get(url, params={"sort_on": "updated", "sort_order": "desc", "limit": 1}))
    assert by_update == [made[0]]
    by_id = _ids(etsy.get(url, params={"sort_on": "receipt_id", "sort_order": "up", "limit": 3}))
    assert by_id == sorted(made + [unpaid])[:3]
    assert etsy.get(url, params={"limit": 101}).status_code == 400


def test_canceled_receipts_are_left_out_unless_asked_for(sandbox, shop, etsy):
    sid = shop["shop_id"]
    keep = sandbox.admin.create_receipt(sid)["receipt_id"]
    gone = sandbox.admin.create_receipt(sid)["receipt_id"]
    sandbox.admin.receipt_action(gone, "cancel")
    url = f"/shops/{sid}/receipts"
    assert _ids(etsy.get(url)) == [keep]
    assert _ids(etsy.get(url, params={"was_canceled": "true"})) == [gone]
    assert _ids(etsy.get(url, params={"was_canceled": "false"})) == [keep]
    assert etsy.get(f"{url}/{gone}").json()["status"] == "canceled"


def test_refunds_and_ship_date_edits_do_not_bump_updated_timestamp(sandbox, shop, etsy):
    sid = shop["shop_id"]
    rid = sandbox.admin.create_receipt(sid, items=[{"title": "Lamp", "price": "40.00"}])["receipt_id"]
    sandbox.admin.receipt_action(rid, "timestamps", created_timestamp=1_790_000_000, updated_timestamp=1_790_000_100)
    sandbox.admin.receipt_action(rid, "refund", amount="15.00", reason="damaged")
    sandbox.admin.receipt_action(rid, "ship-date", ship_date="2026-12-24")
    got = etsy.get(f"/shops/{sid}/receipts/{rid}").json()
    assert got["updated_timestamp"] == 1_790_000_100
    assert got["status"] == "partially refunded"
    assert got["refunds"][0]["amount"]["amount"] == 1500 and got["refunds"][0]["reason"] == "damaged"
    # So a poll by min_last_modified misses the refund: exactly Etsy's trap.
    assert _ids(etsy.get(f"/shops/{sid}/receipts", params={"min_last_modified": 1_790_000_101})) == []
    sandbox.admin.receipt_action(rid, "refund")  # the rest
    assert etsy.get(f"/shops/{sid}/receipts/{rid}").json()["status"] == "fully refunded"
    sandbox.admin.receipt_action(rid, "pay")  # already paid: no change
    sandbox.admin.receipt_action(rid, "cancel")
    assert etsy.get(f"/shops/{sid}/receipts/{rid}").json()["updated_timestamp"] > 1_790_000_100


def test_cursor_boundaries_are_inclusive(sandbox, shop, etsy):
    sid = shop["shop_id"]
    rid = sandbox.admin.create_receipt(sid)["receipt_id"]
    sandbox.admin.receipt_action(rid, "timestamps", updated_timestamp=1_790_000_500)
    url = f"/shops/{sid}/receipts"
    assert _ids(etsy.get(url, params={"min_last_modified": 1_790_000_500})) == [rid]
    assert _ids(etsy.get(url, params={"max_last_modified": 1_790_000_500})) == [rid]
    assert _ids(etsy.get(url, params={"min_last_modified": 1_790_000_501})) == []


def test_shipments(sandbox, shop, etsy):
    sid = shop["shop_id"]
    gb = sandbox.admin.create_receipt(sid, country_iso="GB")["receipt_id"]
    url = f"/shops/{sid}/receipts/{gb}/tracking"
    first = etsy.post(url, json={"tracking_code": "RM123", "carrier_name": "royal-mail", "send_bcc": True,
                                 "note_to_buyer": "Thanks!"})
    assert first.status_code == 200, first.text
    assert first.json()["is_shipped"] and first.json()["status"] == "completed"
    second = etsy.post(url, json={"tracking_code": "XYZ", "carrier_name": "Pigeon Express"})
    shipments = second.json()["shipments"]
    assert len(shipments) == 2  # each call adds one (and emails the buyer again)
    assert shipments[0]["carrier_name"] == "royal-mail" and shipments[0]["tracking_code"] == "RM123"
    assert shipments[1]["tracking_code"] == ""  # unknown carrier: Etsy drops the number silently
    notes = sandbox.admin.receipt(gb)["notifications"]
    assert [n["kind"] for n in notes] == ["shipped", "shipped"] and notes[0]["note_to_buyer"] == "Thanks!"
    # US orders over $10 and shipments to India need tracking.
    us = sandbox.admin.create_receipt(sid, country_iso="US", items=[{"title": "Big", "price": "25.00"}])["receipt_id"]
    need = etsy.post(f"/shops/{sid}/receipts/{us}/tracking", json={"carrier_name": "usps"})
    assert need.status_code == 400 and "tracking_code" in need.json()["error"]
    small = sandbox.admin.create_receipt(sid, country_iso="US", items=[{"title": "Pin", "price": "4.00"}])["receipt_id"]
    assert etsy.post(f"/shops/{sid}/receipts/{small}/tracking", json={"carrier_name": "usps"}).status_code == 200
    india = sandbox.admin.create_receipt(sid, country_iso="IN", items=[{"title": "Pin", "price": "4.00"}])["receipt_id"]
    assert etsy.post(f"/shops/{sid}/receipts/{india}/tracking", json={}).status_code == 400
    canceled = sandbox.admin.create_receipt(sid, country_iso="GB")["receipt_id"]
    sandbox.admin.receipt_action(canceled, "cancel")
    refused = etsy.post(f"/shops/{sid}/receipts/{canceled}/tracking", json={"tracking_code": "1", "carrier_name": "ups"})
    assert refused.status_code == 409 and "canceled" in refused.json()["error"]
    assert etsy.post(f"/shops/{sid}/receipts/999/tracking", json={}).status_code == 404


def test_tracking_as_a_form_is_a_violation_in_strict_mode_only(sandbox, shop, etsy):
    sid = shop["shop_id"]
    rid = sandbox.admin.create_receipt(sid, country_iso="GB")["receipt_id"]
    url = f"/shops/{sid}/receipts/{rid}/tracking"
    strict = etsy.post(url, data={"tracking_code": "RM1", "carrier_name": "royal-mail"})
    assert strict.status_code == 400 and strict.json() == {"error": "Unsupported Content-Type for this endpoint"}
    assert sandbox.admin.violations()[-1]["operation_id"] == "createReceiptShipment"
    sandbox.admin.config(strict=False)
    assert etsy.post(url, data={"tracking_code": "RM1", "carrier_name": "royal-mail"}).status_code == 200


def test_a_thousand_receipts_page_quickly(sandbox, shop, etsy):
    sid = shop["shop_id"]
    sandbox.admin.bulk_receipts(sid, 1200, step_seconds=1)
    sandbox.admin.config(check_responses=False)
    seen, offset = [], 0
    started = time.perf_counter()
    while True:
        reply = etsy.get(f"/shops/{sid}/receipts", params={"limit": 100, "offset": offset, "sort_order": "asc"})
        batch = reply.json()["results"]
        if not batch:
            break
        seen += [r["receipt_id"] for r in batch]
        offset += 100
    elapsed = time.perf_counter() - started
    assert len(seen) == len(set(seen)) == 1200
    assert elapsed < 5, elapsed  # 13 calls
