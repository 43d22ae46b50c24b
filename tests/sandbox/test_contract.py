"""Every answer of every operation the sandbox serves, checked against Etsy's document
field for field: no field the schema does not name, every field it names present
(listing associations only when asked for), with openapi-core and a schema walk."""

from __future__ import annotations

import json

import pytest

from etsy_sandbox.images import tiny_png
from etsy_sandbox.routes import ROUTES
from etsy_sandbox.spec import FACTS_PATH, get_checker

from .conftest import setup_listing

# Fields of ShopListingWithAssociations that Etsy only sends when asked for (includes=…).
ASSOCIATIONS = {"shipping_profile", "user", "shop", "images", "videos", "inventory", "production_partners", "skus",
                "translations", "views", "personalization", "buyer_price"}
OPTIONAL = {"Self": {"shop_id"}, "ListingInventoryWithAssociations": {"listing"}}


def _resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "oneOf" in schema and len(schema["oneOf"]) == 1:
        return _resolve(document, schema["oneOf"][0])
    return schema


def missing_fields(document, schema, value, where="body", name=None):
    """Names of schema properties absent from ``value`` (recursively)."""
    inner = schema["oneOf"][0] if len(schema.get("oneOf", [])) == 1 else schema
    if "$ref" in inner:
        name = inner["$ref"].rsplit("/", 1)[1]
    schema = _resolve(document, schema)
    problems = []
    if isinstance(value, dict) and schema.get("properties"):
        skip = ASSOCIATIONS if name and name.startswith("ShopListingWithAssociations") else set()
        skip = skip | OPTIONAL.get(name, set())
        for prop, sub in schema["properties"].items():
            if prop not in value:
                if prop not in skip:
                    problems.append(f"{where}.{prop}")
            elif value[prop] is not None:
                problems += missing_fields(document, sub, value[prop], f"{where}.{prop}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value[:3]):
            problems += missing_fields(document, schema["items"], item, f"{where}[{i}]")
    return problems


@pytest.fixture
def recorder(sandbox, etsy):
    """Wrap the test client so every exchange is kept for checking."""
    seen = []
    original = etsy.session.request

    def request(method, url, **kw):
        reply = original(method, url, **kw)
        seen.append(reply)
        return reply

    etsy.session.request = request
    return seen


def test_every_operation_answers_exactly_per_the_document(sandbox, shop, etsy, recorder):
    sid = shop["shop_id"]
    made = setup_listing(etsy, shop)
    lid, pid, rid = made["listing_id"], made["shipping_profile_id"], made["readiness_state_id"]
    etsy.get("/openapi-ping")
    etsy.get("/users/me")
    etsy.get(f"/shops/{sid}")
    etsy.get(f"/shops/{sid}/shipping-profiles")
    etsy.get(f"/shops/{sid}/shipping-profiles/{pid}")
    etsy.put(f"/shops/{sid}/shipping-profiles/{pid}", data={"title": "Renamed"})
    dest = etsy.post(f"/shops/{sid}/shipping-profiles/{pid}/destinations",
                     data={"primary_cost": "9", "secondary_cost": "2", "destination_country_iso": "CA",
                           "min_delivery_days": 3, "max_delivery_days": 9}).json()
    etsy.get(f"/shops/{sid}/shipping-profiles/{pid}/destinations")
    did = dest["shipping_profile_destination_id"]
    etsy.put(f"/shops/{sid}/shipping-profiles/{pid}/destinations/{did}", data={"primary_cost": "10"})
    etsy.delete(f"/shops/{sid}/shipping-profiles/{pid}/destinations/{did}")
    other = etsy.post(f"/shops/{sid}/shipping-profiles", data={
        "title": "Spare", "origin_country_iso": "GB", "origin_postal_code": "N1 1AA", "primary_cost": "1", "secondary_cost": "1",
        "destination_region": "eu", "min_delivery_days": 2, "max_delivery_days": 4}).json()
    etsy.delete(f"/shops/{sid}/shipping-profiles/{other['shipping_profile_id']}")
    etsy.get(f"/shops/{sid}/readiness-state-definitions")
    etsy.get(f"/shops/{sid}/readiness-state-definitions/{rid}")
    spare = etsy.post(f"/shops/{sid}/readiness-state-definitions",
                      data={"readiness_state": "made_to_order", "min_processing_time": 2, "max_processing_time": 4}).json()
    etsy.put(f"/shops/{sid}/readiness-state-definitions/{spare['readiness_state_id']}", data={"max_processing_time": 5})
    etsy.delete(f"/shops/{sid}/readiness-state-definitions/{spare['readiness_state_id']}")
    etsy.get(f"/shops/{sid}/policies/return")
    policy = etsy.post(f"/shops/{sid}/policies/return",
                       data={"accepts_returns": "false", "accepts_exchanges": "false"}).json()
    etsy.get(f"/shops/{sid}/policies/return/{policy['return_policy_id']}")
    etsy.get("/seller-taxonomy/nodes")
    etsy.get("/seller-taxonomy/nodes/374/properties")
    etsy.get(f"/listings/{lid}")
    etsy.get(f"/listings/{lid}", params={"includes": ["Images", "Shop", "User"]})
    etsy.get(f"/shops/{sid}/listings", params={"state": "draft", "includes": ["Images", "Inventory", "Shipping"]})
    etsy.patch(f"/shops/{sid}/listings/{lid}", data={"state": "active", "tags": "red,dress"})
    image = etsy.post(f"/shops/{sid}/listings/{lid}/images", files={"image": ("b.png", tiny_png(), "image/png")},
                      data={"rank": 2, "alt_text": "back"}).json()
    etsy.get(f"/listings/{lid}/images")
    etsy.get(f"/listings/{lid}/images/{image['listing_image_id']}")
    etsy.delete(f"/shops/{sid}/listings/{lid}/images/{image['listing_image_id']}")
    etsy.put(f"/listings/{lid}/inventory", json={"products": [
        {"sku": "S1", "property_values": [{"property_id": 100, "value_ids": [1797], "values": ["S"]}],
         "offerings": [{"price": 20.5, "quantity": 2, "is_enabled": True, "readiness_state_id": rid}]}]})
    etsy.get(f"/listings/{lid}/inventory")
    etsy.get(f"/listings/{lid}/inventory", params={"includes": "Listing"})
    etsy.put(f"/shops/{sid}/listings/{lid}/properties/505", data={"value_ids": [4001], "values": ["Cotton"]})
    etsy.get(f"/shops/{sid}/listings/{lid}/properties")
    etsy.delete(f"/shops/{sid}/listings/{lid}/properties/505")
    receipt = sandbox.admin.create_receipt(sid, items=[{"listing_id": lid, "quantity": 1},
                                                       {"title": "Extra", "price": "3"}], country_iso="GB")
    refunded = sandbox.admin.create_receipt(sid, country_iso="GB")
    sandbox.admin.receipt_action(refunded["receipt_id"], "refund", amount="1.00")
    etsy.post(f"/shops/{sid}/receipts/{receipt['receipt_id']}/tracking",
              json={"tracking_code": "RM1", "carrier_name": "royal-mail", "ship_date": "2026-11-29"})
    etsy.put(f"/shops/{sid}/receipts/{receipt['receipt_id']}", data={"was_shipped": "true"})
    etsy.get(f"/shops/{sid}/receipts", params={"limit": 100})
    etsy.get(f"/shops/{sid}/receipts/{receipt['receipt_id']}")
    etsy.delete(f"/listings/{lid}")

    checker = get_checker(FACTS_PATH, exact=True)
    document = checker.document
    served = {operation for operation, *_ in ROUTES}
    covered, problems = set(), []
    for reply in recorder:
        request = reply.request
        path = request.path_url.split("?")[0]
        operation = next((o for o, m, p, _s in ROUTES if m == request.method and
                          _matches(p, path)), None)
        assert reply.status_code < 400, (request.method, path, reply.text)
        covered.add(operation)
        from urllib.parse import parse_qs, urlsplit

        args = parse_qs(urlsplit(request.url).query)
        from werkzeug.datastructures import MultiDict

        reason = checker.check_response(request.method, path, MultiDict([(k, v) for k, vs in args.items() for v in vs]),
                                        dict(request.headers), request.body or b"",
                                        request.headers.get("Content-Type"), reply.status_code, reply.content,
                                        reply.headers.get("Content-Type", "").split(";")[0], dict(reply.headers))
        if reason:
            problems.append(f"{operation}: {reason[:300]}")
        if reply.status_code == 204:
            continue
        method, route, op = checker.operations[operation]
        schema = op["responses"][str(reply.status_code)]["content"]["application/json"]["schema"]
        for missing in missing_fields(document, schema, reply.json()):
            problems.append(f"{operation}: missing {missing}")
    assert problems == []
    assert served - covered == set(), f"not exercised: {served - covered}"
    assert sandbox.admin.violations() == []


def _matches(template, path):
    import re

    return re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), path) is not None


def test_strict_mode_rejects_with_etsy_style_texts_and_records_violations(sandbox, shop, etsy):
    reply = etsy.get(f"/shops/{shop['shop_id']}/receipts", params={"min_created": 5})
    assert reply.status_code == 400
    assert reply.json() == {"error": "Parameter 'min_created' must be at least 946684800"}
    violation = sandbox.admin.violations()[-1]
    assert violation["kind"] == "request" and violation["operation_id"] == "getShopReceipts"
    missing = etsy.post(f"/shops/{shop['shop_id']}/policies/return", json={"accepts_returns": True})
    assert missing.status_code == 400 and missing.json() == {"error": "Missing required parameter: accepts_exchanges"}
    wrong = etsy.get(f"/shops/{shop['shop_id']}/receipts", params={"sort_on": "price"})
    assert wrong.json()["error"].startswith("Invalid value 'price' for parameter 'sort_on': expected one of created")
    not_a_number = etsy.get(f"/shops/{shop['shop_id']}/receipts", params={"limit": "ten"})
    assert not_a_number.json() == {"error": "Expected parameter 'limit' to be of type integer, got 'ten'"}
    assert etsy.get("/shops/abc/receipts").json() == {
        "error": "Expected parameter 'shop_id' to be of type integer, got 'abc'"}
    assert etsy.get("/shipping-carriers").json() == {"error": "Missing required parameter: origin_country_iso"}
    for answer in (reply, missing, wrong):
        assert "ValidationError" not in answer.text and "schema" not in answer.text.lower()
    sandbox.admin.clear_violations()
    sandbox.admin.config(strict=False)
    assert etsy.get(f"/shops/{shop['shop_id']}/receipts", params={"min_created": 5}).status_code == 200
    assert sandbox.admin.violations() == []


def test_form_operations_take_json_bodies_and_arrays_comma_separated(sandbox, shop, etsy):
    sid = shop["shop_id"]
    policy = etsy.post(f"/shops/{sid}/policies/return",
                       json={"accepts_returns": True, "accepts_exchanges": True, "return_deadline": 30})
    assert policy.status_code == 200, policy.text
    assert (policy.json()["accepts_returns"], policy.json()["return_deadline"]) == (True, 30)
    made = setup_listing(etsy, shop)
    lid = made["listing_id"]
    changed = etsy.patch(f"/shops/{sid}/listings/{lid}", json={"title": "A JSON title", "tags": ["a", "b"]})
    assert changed.status_code == 200, changed.text
    listing = etsy.get(f"/listings/{lid}").json()
    assert (listing["title"], listing["tags"]) == ("A JSON title", ["a", "b"])
    both = etsy.get(f"/listings/{lid}", params={"includes": "Images,Shop"})
    assert both.status_code == 200, both.text
    assert "images" in both.json() and "shop" in both.json()
    wrong = etsy.get(f"/listings/{lid}", params={"includes": "Images,Inventory"})
    assert wrong.json()["error"].startswith("Invalid value 'Inventory' for parameter 'includes'")
    assert [v["operation_id"] for v in sandbox.admin.violations()] == ["getListing"]


def test_handlers_read_json_bodies_with_strict_mode_off_too(sandbox, shop, etsy):
    sandbox.admin.config(strict=False)
    lid = setup_listing(etsy, shop)["listing_id"]
    changed = etsy.patch(f"/shops/{shop['shop_id']}/listings/{lid}", json={"title": "Set by JSON", "tags": ["json"]})
    assert changed.status_code == 200, changed.text
    listing = etsy.get(f"/listings/{lid}").json()
    assert (listing["title"], listing["tags"]) == ("Set by JSON", ["json"])
    listed = etsy.get("/listings/batch", params={"listing_ids": f"{lid}"})  # not routed as getListing
    assert listed.status_code == 200 and listed.json()["count"] == 1


def test_unknown_paths_answer_404(sandbox, etsy):
    reply = etsy.get("/no/such/thing")
    assert reply.status_code == 404 and reply.json()["error"].startswith("Resource not found")


def test_admin_index_lists_every_endpoint(sandbox):
    index = sandbox.admin.request("GET", "/")
    paths = {(e["method"], e["path"]) for e in index["endpoints"]}
    assert ("POST", "/_sandbox/shops") in paths and ("POST", "/_sandbox/faults") in paths
    assert json.dumps(index)  # plain JSON
    assert sandbox.admin.health()["strict"] is True


def test_without_the_document_the_sandbox_refuses_to_start(tmp_path):
    from etsy_sandbox.spec import DocumentError
    from etsy_sandbox.testing import run_sandbox

    with pytest.raises(DocumentError, match="missing.json"):
        with run_sandbox(openapi_path=str(tmp_path / "missing.json")):
            pass  # pragma: no cover
    with pytest.raises(DocumentError, match="missing.json"):
        with run_sandbox(openapi_path=str(tmp_path / "missing.json"), strict=False):
            pass  # pragma: no cover


def test_the_cli_refuses_to_start_without_the_document_and_says_why(tmp_path):
    import subprocess
    import sys

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    done = subprocess.run([sys.executable, "-m", "etsy_sandbox", "--port", "0", "--openapi", str(broken)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "cannot load Etsy's OpenAPI document" in done.stderr and "does not start" in done.stderr
