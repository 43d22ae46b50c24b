"""The project's facts-only copy of Etsy's OpenAPI document and its generator."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

from etsy_sandbox.spec import FACTS_PATH, load_facts

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "etsy_facts.py"
PROSE = {"description", "summary", "title", "example", "examples", "externalDocs"}


def _generator():
    spec = importlib.util.spec_from_file_location("etsy_facts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prose_keys(node, in_properties=False, where="$"):
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if not in_properties and key in PROSE:
                found.append(f"{where}.{key}")
            found += _prose_keys(value, key == "properties" and not in_properties, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _prose_keys(value, False, f"{where}[{i}]")
    return found


def test_the_shipped_facts_have_every_operation_and_no_prose():
    facts = load_facts()
    operations = [op for item in facts["paths"].values() for op in item.values() if "operationId" in op]
    assert len(operations) == 105 and len(facts["components"]["schemas"]) == 81
    assert _prose_keys(facts) == []
    assert re.search(r"<[a-z]+[ >/]", FACTS_PATH.read_text(encoding="utf-8")) is None  # no HTML anywhere
    # Field names that look like prose keywords are facts and stay.
    listing = facts["components"]["schemas"]["ShopListing"]["properties"]
    assert {"title", "description"} <= set(listing)
    create = next(op for op in operations if op["operationId"] == "createDraftListing")
    form = create["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"title", "description", "price"} <= set(form["required"])
    assert form["properties"]["who_made"]["enum"] == ["i_did", "someone_else", "collective"]


def test_the_generator_strips_prose_and_keeps_facts(tmp_path):
    document = {
        "openapi": "3.0.2", "info": {"title": "Etsy", "version": "3.0.0", "description": "<div>prose</div>"},
        "tags": [{"name": "Shop", "description": "<p>prose</p>"}], "x-tagGroups": [{"name": "g", "tags": ["Shop"]}],
        "paths": {"/v3/application/things/{id}": {"get": {
            "operationId": "getThing", "summary": "Get", "description": "<span class='banner'>prose</span>",
            "tags": ["Shop"],
            "parameters": [{"name": "id", "in": "path", "required": True, "description": "prose",
                            "schema": {"type": "integer", "minimum": 1, "example": 5}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
        "components": {
            "schemas": {"Thing": {"type": "object", "title": "Thing", "description": "prose", "properties": {
                "title": {"type": "string", "description": "the title's text"},
                "description": {"type": "string", "nullable": True}}}},
            "securitySchemes": {"oauth2": {"type": "oauth2", "description": "prose", "flows": {
                "authorizationCode": {"authorizationUrl": "https://www.etsy.com/oauth/connect",
                                      "tokenUrl": "https://api.etsy.com/v3/public/oauth/token",
                                      "scopes": {"shops_r": "<b>read shops</b>"}}}}}},
    }
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document))
    out = tmp_path / "facts.json"
    done = subprocess.run([sys.executable, str(SCRIPT), str(source), "--output", str(out)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    facts = json.loads(out.read_text())
    assert _prose_keys(facts) == [] and "<" not in out.read_text()
    operation = facts["paths"]["/v3/application/things/{id}"]["get"]
    assert operation["parameters"] == [{"name": "id", "in": "path", "required": True,
                                        "schema": {"type": "integer", "minimum": 1}}]
    assert facts["components"]["schemas"]["Thing"]["properties"] == {
        "title": {"type": "string"}, "description": {"type": "string", "nullable": True}}
    assert facts["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]["scopes"] == {"shops_r": ""}
    assert facts["info"]["version"] == "3.0.0" and len(facts["info"]["x-source-sha256"]) == 64
    # --check: 0 when the file is what the document gives, 1 after a change.
    assert subprocess.run([sys.executable, str(SCRIPT), str(source), "--output", str(out), "--check"],
                          timeout=60).returncode == 0
    document["paths"]["/v3/application/things/{id}"]["get"]["parameters"][0]["schema"]["minimum"] = 2
    source.write_text(json.dumps(document))
    assert subprocess.run([sys.executable, str(SCRIPT), str(source), "--output", str(out), "--check"],
                          capture_output=True, timeout=60).returncode == 1


def test_the_shipped_file_is_what_the_generator_writes():
    """Regenerating from the facts themselves changes nothing but the source checksum: the
    file was written by the script, not edited by hand."""
    generator = _generator()
    shipped = load_facts()
    again = json.loads(generator.render(generator.facts(shipped, shipped["info"]["x-source-sha256"])))
    assert again == shipped
