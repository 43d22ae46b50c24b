"""Answers for the operations the sandbox keeps no state for, built from Etsy's document.

Etsy's document names 105 operations; the sandbox keeps state for the ones a
seller's integration drives (shops, profiles, listings, inventory, receipts).
Every other operation answers as a read-only Etsy would: the ids in its path
must exist (404 otherwise, as on Etsy), lists are empty, a write echoes what
it was sent inside an object of the documented shape. Every answer is valid
against the operation's response schema, field for field.
"""

from __future__ import annotations

import json

from .errors import not_found

#: Path parameters the sandbox can check, and the state table that holds them.
KNOWN_IDS = {"shop_id": "shops", "listing_id": "listings", "receipt_id": "receipts",
             "shipping_profile_id": "shipping_profiles", "return_policy_id": "return_policies",
             "user_id": "users", "readiness_state_definition_id": "readiness"}


def _resolve(document: dict, schema: dict) -> dict:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        seen += 1
    if isinstance(schema, dict) and schema.get("oneOf"):
        return _resolve(document, schema["oneOf"][0])
    if isinstance(schema, dict) and schema.get("allOf"):
        merged: dict = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            part = _resolve(document, part)
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return merged
    return schema


def _fits(value, schema: dict) -> bool:
    kind = schema.get("type")
    if value is None:
        return bool(schema.get("nullable"))
    if "enum" in schema and value not in schema["enum"]:
        return False
    return {"integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "string": isinstance(value, str), "boolean": isinstance(value, bool),
            "array": isinstance(value, list), "object": isinstance(value, dict)}.get(kind, True)


def _cast(value, schema: dict):
    """A text value (path, query, form) as the schema's type when it reads as one, else unchanged."""
    if not isinstance(value, str):
        return value
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


def instance(document: dict, schema: dict, hints: dict | None = None, depth: int = 0):
    """A value valid against ``schema``: ``hints`` (name -> value) fill fields of the top object."""
    schema = _resolve(document, schema or {})
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if kind == "object":
        out = {}
        for name, sub in schema.get("properties", {}).items():
            resolved = _resolve(document, sub)
            if hints and name in hints and _fits(_cast(hints[name], resolved), resolved):
                out[name] = _cast(hints[name], resolved)
            elif name == "count" and "results" in schema.get("properties", {}):
                out[name] = 0
            else:
                out[name] = instance(document, resolved, None, depth + 1)
        return out
    if schema.get("nullable") and depth > 0:
        return None
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    if kind == "array":
        return []
    if kind == "integer":
        return int(max(schema.get("minimum", 0), 0))
    if kind == "number":
        return float(max(schema.get("minimum", 0), 0))
    if kind == "boolean":
        return False
    if kind == "string":
        return ""
    return None


def _check_path_ids(ctx) -> None:
    with ctx.state.lock:
        for name, table in KNOWN_IDS.items():
            if name in ctx.raw_params:
                value = ctx.path_int(name)
                if value not in getattr(ctx.state, table):
                    raise not_found(f"{name} {value} not found")


def respond(ctx):
    """The generic answer for ``ctx.operation_id`` (see the module's text)."""
    checker = ctx.sandbox.checker
    method, _route, operation = checker.operations[ctx.operation_id]
    _check_path_ids(ctx)
    responses = operation.get("responses", {})
    status = next((int(code) for code in sorted(responses) if code.startswith("2")), 200)
    content = (responses.get(str(status)) or {}).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    if status == 204 or schema is None:
        return 204, None
    hints: dict = {}
    hints.update({k: v for k, v in ctx.request.args.items()})
    if method in ("POST", "PUT", "PATCH"):
        if (ctx.request.mimetype or "").endswith("json"):
            try:
                body = json.loads(ctx.request.get_data() or b"{}")
            except ValueError:
                body = {}
            if isinstance(body, dict):
                hints.update(body)
        else:
            hints.update({k: v for k, v in ctx.request.form.items()})
    hints.update(ctx.raw_params)
    if ctx.token is not None:
        hints.setdefault("user_id", ctx.token["user_id"])
    return status, instance(checker.document, schema, hints)
