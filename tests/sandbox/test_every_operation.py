"""Every operation of Etsy's document answers as Etsy would: no 501, no 5xx, answers
valid against the document (the fixture checks each one), state where it matters."""

from __future__ import annotations

import re

from etsy_sandbox.generic import _resolve
from etsy_sandbox.spec import load_facts

from .conftest import setup_listing

FACTS = load_facts()


def _value(schema, name=""):
    schema = _resolve(FACTS, schema or {})
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    kind = schema.get("type")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 1.0)
    if kind == "boolean":
        return False
    if kind == "array":
        return [_value(schema.get("items", {}), name)]
    if kind == "object":
        return {k: _value(v, k) for k, v in schema.get("properties", {}).items() if k in schema.get("required", [])}
    if name.endswith("country_iso") or name == "origin_country_iso":
        return "US"
    if name == "language":
        return "de"
    return "sandbox"


def _request(operation, ids):
    query, body, kind = {}, None, None
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter.get("required"):
            query[parameter["name"]] = _value(parameter["schema"], parameter["name"])
    content = (operation.get("requestBody") or {}).get("content") or {}
    for candidate in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data"):
        if candidate in content:
            body, kind = _value(content[candidate]["schema"]), candidate
            break
    return query, body, kind


def test_every_operation_of_the_document_answers(sandbox, shop, etsy):
    made = setup_listing(etsy, shop)
    receipt = sandbox.admin.create_receipt(shop["shop_id"], items=[{"listing_id": made["listing_id"], "quantity": 1}],
                                           country_iso="GB")
    ids = {"shop_id": shop["shop_id"], "listing_id": made["listing_id"], "user_id": shop["user_id"],
           "shipping_profile_id": made["shipping_profile_id"], "receipt_id": receipt["receipt_id"],
           "readiness_state_definition_id": made["readiness_state_id"], "return_policy_id": shop["return_policy_id"],
           "language": "de"}
    statuses = {}
    deletes = []
    for route, item in FACTS["paths"].items():
        for method, operation in item.items():
            path = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), route)[len("/v3/application"):]
            if method == "delete" and "{listing_id}" in route or "{shop_id}" in route and method == "delete":
                deletes.append((operation["operationId"], path))  # after the reads, so the ids stay valid
                continue
            query, body, kind = _request(operation, ids)
            if kind == "multipart/form-data":
                from etsy_sandbox.images import tiny_png

                field = "image" if "image" in operation["operationId"].lower() else \
                    "video" if "video" in operation["operationId"].lower() else "file"
                reply = etsy.session.request(method.upper(), etsy.base + path, params=query, data=body,
                                             files={field: ("i.png", tiny_png(), "image/png")}, timeout=10)
            elif kind == "application/json":
                reply = etsy.session.request(method.upper(), etsy.base + path, params=query, json=body, timeout=10)
            else:
                reply = etsy.session.request(method.upper(), etsy.base + path, params=query, data=body, timeout=10)
            statuses[operation["operationId"]] = (reply.status_code, reply.text[:200])
    for operation_id, path in deletes:
        reply = etsy.session.request("DELETE", etsy.base + path, timeout=10)
        statuses[operation_id] = (reply.status_code, reply.text[:200])
    assert len(statuses) == 105
    # Stateful operations check what a schema cannot (a real taxonomy id, a postal code, a processing
    # profile of this shop): the made-up values of this test get Etsy's answers to those.
    semantic = {"createDraftListing", "createShopShippingProfile", "createShopShippingProfileDestination",
                "updateListingInventory", "updateListingProperty"}
    # A seller's token has no address scopes, as on Etsy.
    scoped = {"getUserAddresses", "getUserAddress", "deleteUserAddress"}
    broken = {op: s for op, s in statuses.items() if s[0] >= 500 or s[0] in (400, 401, 403)
              and not (op in semantic and s[0] == 400) and not (op in scoped and "insufficient_scope" in s[1])}
    assert broken == {}, "\n".join(f"{op}: {s}" for op, s in sorted(broken.items()))
    ok = {op for op, s in statuses.items() if s[0] < 300}
    # 404s only where the path names an object the sandbox cannot have (product 1, video 1, ...).
    assert len(ok) >= 75, sorted(set(statuses) - ok)


def test_batch_paths_are_not_taken_for_a_listing_id(sandbox, shop, etsy):
    first = setup_listing(etsy, shop)["listing_id"]
    reply = etsy.get("/listings/batch", params={"listing_ids": f"{first},999", "includes": "Images"})
    assert reply.status_code == 200, reply.text
    assert [r["listing_id"] for r in reply.json()["results"]] == [first]
    assert "images" in reply.json()["results"][0]


def test_shop_sections_and_shop_settings_keep_state(sandbox, shop, etsy):
    sid = shop["shop_id"]
    section = etsy.post(f"/shops/{sid}/sections", json={"title": "Mugs"}).json()
    assert [s["title"] for s in etsy.get(f"/shops/{sid}/sections").json()["results"]] == ["Mugs"]
    etsy.put(f"/shops/{sid}/sections/{section['shop_section_id']}", data={"title": "Cups"})
    assert etsy.get(f"/shops/{sid}/sections/{section['shop_section_id']}").json()["title"] == "Cups"
    assert etsy.delete(f"/shops/{sid}/sections/{section['shop_section_id']}").status_code == 204
    assert etsy.get(f"/shops/{sid}/sections/{section['shop_section_id']}").status_code == 404
    updated = etsy.put(f"/shops/{sid}", json={"announcement": "Back next week"}).json()
    assert updated["announcement"] == "Back next week"
    assert etsy.get(f"/shops/{sid}").json()["announcement"] == "Back next week"
    assert etsy.get(f"/users/{shop['user_id']}/shops").json()["shop_id"] == sid
    assert etsy.get(f"/users/{shop['user_id']}").json()["user_id"] == shop["user_id"]


def test_transactions_of_a_receipt(sandbox, shop, etsy):
    made = setup_listing(etsy, shop)
    receipt = sandbox.admin.create_receipt(shop["shop_id"], items=[{"listing_id": made["listing_id"], "quantity": 2}],
                                           country_iso="GB")
    base = f"/shops/{shop['shop_id']}"
    rows = etsy.get(f"{base}/receipts/{receipt['receipt_id']}/transactions").json()["results"]
    assert [(t["listing_id"], t["quantity"]) for t in rows] == [(made["listing_id"], 2)]
    one = etsy.get(f"{base}/transactions/{rows[0]['transaction_id']}").json()
    assert one["receipt_id"] == receipt["receipt_id"]
    assert etsy.get(f"{base}/transactions").json()["count"] == 1
    assert etsy.get(f"{base}/receipts/{receipt['receipt_id']}/listings").json()["results"][0]["listing_id"] == \
        made["listing_id"]


def test_translations_and_personalization_keep_state(sandbox, shop, etsy):
    lid = setup_listing(etsy, shop)["listing_id"]
    base = f"/shops/{shop['shop_id']}/listings/{lid}"
    assert etsy.get(f"{base}/translations/de").status_code == 404
    made = etsy.post(f"{base}/translations/de", json={"title": "Kleid", "description": "Ein Kleid.", "tags": ["leinen"]})
    assert made.status_code == 200, made.text
    etsy.put(f"{base}/translations/de", data={"title": "Sommerkleid", "description": "Ein Kleid."})
    assert etsy.get(f"{base}/translations/de").json() == {"listing_id": lid, "language": "de", "title": "Sommerkleid",
                                                          "description": "Ein Kleid.", "tags": []}
    asked = etsy.post(f"{base}/personalization", json={"personalization_questions": [
        {"question_type": "text_input", "question_text": "Name to engrave", "required": True,
         "max_allowed_characters": 20}]})
    assert asked.status_code == 201, asked.text
    questions = etsy.get(f"/listings/{lid}/personalization").json()["personalization_questions"]
    assert [(q["question_text"], q["required"]) for q in questions] == [("Name to engrave", True)]
    assert etsy.get(f"/listings/{lid}").json()["is_personalizable"] is True
    assert etsy.delete(f"{base}/personalization").status_code == 204
    assert etsy.get(f"/listings/{lid}/personalization").json()["personalization_questions"] == []


def test_shipping_upgrades_keep_state(sandbox, shop, etsy):
    pid = setup_listing(etsy, shop)["shipping_profile_id"]
    base = f"/shops/{shop['shop_id']}/shipping-profiles/{pid}/upgrades"
    made = etsy.post(base, json={"type": 0, "upgrade_name": "Express", "price": 9.5, "secondary_price": 4,
                                 "min_delivery_days": 1, "max_delivery_days": 2})
    assert made.status_code == 200, made.text
    upgrade = made.json()
    assert (upgrade["upgrade_name"], upgrade["price"]["amount"], upgrade["type"]) == ("Express", 950, 0)
    etsy.put(f"{base}/{upgrade['upgrade_id']}", data={"upgrade_name": "Next day"})
    assert [u["upgrade_name"] for u in etsy.get(base).json()["results"]] == ["Next day"]
    profile = etsy.get(f"/shops/{shop['shop_id']}/shipping-profiles/{pid}").json()
    assert [u["upgrade_id"] for u in profile["shipping_profile_upgrades"]] == [upgrade["upgrade_id"]]
    assert etsy.delete(f"{base}/{upgrade['upgrade_id']}").status_code == 204
    assert etsy.get(base).json()["count"] == 0
