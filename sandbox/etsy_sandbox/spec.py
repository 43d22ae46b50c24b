"""Etsy's OpenAPI facts, loaded once, and request/response checks with openapi-core.

The sandbox ships ``data/etsy-openapi-facts.json``: Etsy's published OpenAPI
document without its prose, written by ``scripts/etsy_facts.py`` (run it with
a newer Etsy document to update the file). A different document can be given
on purpose (``SandboxConfig.openapi_path``, ``--openapi``).

Etsy's document has one systematic defect that openapi-core rejects:
``default: null`` on schemas that are not nullable (e.g. the ``min_created``
query parameter). Those defaults are dropped from the in-memory copy; that
does not change which requests or responses are valid. Second, nullable enums
(e.g. ``item_weight_unit``) do not list null, which under OAS 3.0.3 would
forbid the null Etsy really sends; null is added to those enums.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

from werkzeug.datastructures import Headers, ImmutableMultiDict

from .messages import etsy_message, schema_error_text

ETSY_SERVER = "https://openapi.etsy.com"
#: The facts-only copy of Etsy's document that ships with the sandbox.
FACTS_PATH = Path(__file__).resolve().parent / "data" / "etsy-openapi-facts.json"


class DocumentError(RuntimeError):
    """Etsy's document cannot be loaded: the sandbox cannot check requests and will not start."""


def document_path(explicit: str | None = None) -> Path:
    """The document to use: ``explicit`` when given, else the shipped facts file."""
    path = Path(explicit) if explicit else FACTS_PATH
    if not path.is_file():
        raise DocumentError(f"Etsy's OpenAPI document is missing at {path}"
                            + ("" if explicit else " (reinstall the sandbox: pip install ./sandbox)"))
    return path


def load_facts() -> dict:
    """A fresh parsed copy of the shipped facts file (callers may change it)."""
    return json.loads(FACTS_PATH.read_text(encoding="utf-8"))


def _sanitise(node):
    if isinstance(node, dict):
        if "default" in node and node["default"] is None and not node.get("nullable"):
            del node["default"]
        if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"] = node["enum"] + [None]
        for value in node.values():
            _sanitise(value)
    elif isinstance(node, list):
        for value in node:
            _sanitise(value)


_cache: dict[str, dict] = {}
_cache_lock = threading.Lock()


def load_document(path: Path) -> dict:
    """The parsed, sanitised document (cached per path; callers must not mutate it)."""
    key = str(path)
    with _cache_lock:
        if key not in _cache:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
            _sanitise(document)
            document["servers"] = [{"url": ETSY_SERVER}]
            _cache[key] = document
        return _cache[key]


class _Request:
    """openapi-core request protocol over a werkzeug request, addressed as Etsy's server."""

    def __init__(self, method: str, path: str, args, headers, body: bytes, content_type: str | None):
        from openapi_core.datatypes import RequestParameters

        self.host_url = ETSY_SERVER
        self.path = path
        self.method = method.lower()
        self.body = body
        self.content_type = content_type or "application/octet-stream"
        self.parameters = RequestParameters(query=ImmutableMultiDict(args), header=Headers(headers), cookie={})

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


class _Response:
    def __init__(self, status: int, body: bytes, content_type: str, headers):
        self.status_code = status
        self.data = body
        self.content_type = content_type
        self.headers = Headers(headers)


def describe(error: BaseException) -> str:
    """One line naming what is wrong, from openapi-core's nested exceptions."""
    parts = [str(error)]
    cause = error.__cause__
    seen = 0
    while cause is not None and seen < 4:
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            for schema_error in list(schema_errors)[:5]:
                where = "/".join(str(p) for p in getattr(schema_error, "absolute_path", [])) or "body"
                parts.append(f"{where}: {getattr(schema_error, 'message', schema_error)}")
            break
        if str(cause) and str(cause) not in parts:
            parts.append(str(cause))
        cause = cause.__cause__
        seen += 1
    return "; ".join(parts)


class SpecChecker:
    """Validates requests (and, optionally, responses) against Etsy's document.

    Built once per document; ``check_request`` costs well under a millisecond for a call
    without a body, a few milliseconds with one.
    ``exact=True`` additionally forbids response fields the document does not name.
    """

    def __init__(self, path: Path, exact: bool = False):
        from openapi_core import Config, OpenAPI

        self.path = path
        self.document = load_document(path)
        config = Config(spec_validator_cls=None,
                        additional_properties_default_policy="forbid" if exact else "allow")
        # openapi-core may mutate caches inside the spec object: give it its own copy,
        # without the oauth2 requirements it cannot check (the sandbox checks Bearer
        # tokens itself; openapi-core would only warn on every call).
        own = copy.deepcopy(self.document)
        for item in own["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict) and "security" in operation:
                    operation["security"] = [{k: v for k, v in req.items() if k != "oauth2"}
                                             for req in operation["security"]]
        self.api = OpenAPI.from_dict(own, config=config)
        self._memo: dict = {}
        self._memo_lock = threading.Lock()
        self._compiled: dict = {}
        self.operations = {}
        for route, item in self.document["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    self.operations[operation["operationId"]] = (method.upper(), route, operation)

    def check_request(self, operation_id, method, path, args, headers, body, content_type, form=None,
                      files=None) -> "Rejection | None":
        """None when the request conforms, else a :class:`Rejection` (Etsy's text, and the detail).

        Etsy reads more than its document says, and so does the sandbox:
        array query parameters may be comma separated (``includes=Images,Shop``),
        and operations documented with form bodies take the same fields as a
        JSON object. Path and query parameters are cast and checked here
        (openapi-core resolves references on every call, ~3 ms a parameter:
        50 ms for a receipts poll); openapi-core checks bodies. It does not
        cast multipart text parts to the declared types (``rank=1`` fails as
        "not of type integer"), so multipart bodies are checked here too.
        """
        key = None
        if body is None or len(body) <= 65536:
            # Validation is a pure function of these; polls repeat the same request often,
            # so remember recent verdicts (a body check with openapi-core costs milliseconds).
            key = (operation_id, method, path, tuple(sorted(args.items(multi=True))), content_type, body,
                   "x-api-key" in headers)
            with self._memo_lock:
                if key in self._memo:
                    return self._memo[key]
        verdict = self._check_request(operation_id, method, path, args, headers, body, content_type, form, files)
        if key is not None:
            with self._memo_lock:
                if len(self._memo) >= 4096:
                    self._memo.clear()
                self._memo[key] = verdict
        return verdict

    def _check_request(self, operation_id, method, path, args, headers, body, content_type, form, files):
        operation = self.operations.get(operation_id, (None, None, {}))[2]
        multipart = (content_type or "").startswith("multipart/form-data")
        if multipart and form is not None:
            rejection = self._check_multipart(operation, form, files or {})
            if rejection is not None:
                return rejection
            body, content_type = None, None
        args = split_array_args(operation, args)
        mimetype = (content_type or "").split(";")[0].strip().lower()
        declared = ((operation.get("requestBody") or {}).get("content") or {})
        if mimetype.endswith("json") and body and "application/json" not in declared \
                and "application/x-www-form-urlencoded" in declared:
            try:
                payload = json.loads(body)
            except ValueError:
                return Rejection("Invalid request body: not valid JSON", "body is not JSON")
            if not isinstance(payload, dict):
                return Rejection("Invalid request body: expected a JSON object", "body is not an object")
            body, content_type = json_as_form(payload), "application/x-www-form-urlencoded"
        rejection = self._check_parameters(operation_id, path, args)
        if rejection is not None or (not body and not (operation.get("requestBody") or {}).get("required")):
            # Parameters are all a body-less call has; openapi-core (about 3 ms a parameter)
            # is only needed for bodies.
            return rejection
        request = _Request(method, path, args, headers, body, content_type)
        try:
            self.api.validate_request(request)
        except Exception as error:  # openapi-core raises many unrelated classes
            return Rejection(etsy_message(error), describe(error))
        return None

    def _parameters(self, operation_id):
        """(path regex, [(name, where, required, schema, validator)]) of an operation, built once."""
        compiled = self._compiled.get(operation_id)
        if compiled is None:
            from openapi_schema_validator import OAS30Validator

            _method, route, operation = self.operations[operation_id]
            pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route)) + "$")
            parameters = []
            for parameter in operation.get("parameters", []):
                schema = _resolved(self.document, parameter.get("schema") or {})
                parameters.append((parameter["name"], parameter["in"], bool(parameter.get("required")), schema,
                                   OAS30Validator(schema)))
            compiled = self._compiled[operation_id] = (pattern, parameters)
        return compiled

    def _check_parameters(self, operation_id, path, args) -> "Rejection | None":
        """Path and query parameters against their schemas, read as Etsy reads them (text cast
        to the declared type; arrays repeated or comma separated, already split by the caller)."""
        pattern, parameters = self._parameters(operation_id)
        match = pattern.match(path)
        for name, where, required, schema, validator in parameters:
            if where == "path":
                raw = [match.group(name)] if match and match.group(name) is not None else []
            else:
                raw = args.getlist(name) + args.getlist(f"{name}[]")
            if not raw:
                if required:
                    return Rejection(f"Missing required parameter: {name}", f"{where} {name}: missing")
                continue
            kind = schema.get("type")
            try:
                if kind == "array":
                    item_kind = (schema.get("items") or {}).get("type")
                    value = [_cast(v, item_kind) for v in raw]
                else:
                    value = _cast(raw[-1], kind)
            except ValueError:
                shown = raw[-1]
                return Rejection(f"Expected parameter '{name}' to be of type {kind}, got {shown!r}",
                                 f"{where} {name}: {shown!r} is not {kind}")
            for error in validator.iter_errors(value):
                return Rejection(schema_error_text(error, where=name), f"{where} {name}: {error.message}")
        return None

    def _check_multipart(self, operation, form, files) -> "Rejection | None":
        from openapi_schema_validator import OAS30Validator

        content = ((operation or {}).get("requestBody") or {}).get("content", {})
        schema = (content.get("multipart/form-data") or {}).get("schema")
        if schema is None:
            return Rejection("Unsupported Content-Type for this endpoint", "no multipart/form-data body declared")
        instance = {}
        props = schema.get("properties", {})
        for name, values in form.lists():
            prop = props.get(name, {})
            kind = prop.get("type")
            try:
                if kind == "array":
                    item_kind = prop.get("items", {}).get("type")
                    instance[name] = [_cast(v, item_kind) for v in values]
                else:
                    instance[name] = _cast(values[-1], kind)
            except ValueError:
                return Rejection(f"Expected parameter '{name}' to be of type {kind}, got {values[-1]!r}",
                                 f"multipart {name}: not {kind}")
        for name in files:
            prop = props.get(name)
            if prop is None or prop.get("format") != "binary":
                return Rejection(f"Parameter '{name}' cannot be a file", f"multipart {name}: not binary")
        missing = [name for name in schema.get("required", []) if name not in instance and name not in files]
        if missing:
            return Rejection(f"Missing required parameter: {missing[0]}", f"multipart: missing {missing}")
        validator = OAS30Validator({k: v for k, v in schema.items() if k != "required"})
        binary = {k for k, v in props.items() if v.get("format") == "binary"}
        for error in validator.iter_errors({k: v for k, v in instance.items() if k not in binary}):
            where = "/".join(str(p) for p in error.absolute_path) or "body"
            return Rejection(schema_error_text(error), f"multipart {where}: {error.message}")
        return None

    def check_response(self, method, path, args, req_headers, req_body, req_content_type,
                       status: int, body: bytes, content_type: str, headers) -> str | None:
        """None when the response conforms (error answers: ``{"error": str}``), else a reason."""
        if status >= 400 or status == 204:
            if status == 204:
                return None if not body else "204 answer has a body"
            try:
                payload = json.loads(body)
            except ValueError:
                return f"{status} answer is not JSON"
            if not isinstance(payload, dict) or not isinstance(payload.get("error"), str):
                return f"{status} answer does not match ErrorSchema"
            return None
        request = _Request(method, path, args, req_headers, req_body, req_content_type)
        response = _Response(status, body, content_type, headers)
        try:
            self.api.validate_response(request, response)
        except Exception as error:
            return describe(error)
        return None


_checkers: dict[tuple, SpecChecker] = {}


def get_checker(path: Path, exact: bool = False) -> SpecChecker:
    """A shared checker per (document, exact); building one takes a fraction of a second."""
    key = (str(path), exact)
    with _cache_lock:
        checker = _checkers.get(key)
    if checker is None:
        checker = SpecChecker(path, exact=exact)
        with _cache_lock:
            checker = _checkers.setdefault(key, checker)
    return checker


class Rejection(NamedTuple):
    """Why a request breaks the document: ``text`` as Etsy would say it, ``detail`` for the violation log."""

    text: str
    detail: str


def split_array_args(operation: dict, args):
    """``args`` with comma-separated values of array query parameters split (Etsy's URL syntax)."""
    arrays = {p["name"] for p in operation.get("parameters", [])
              if p.get("in") == "query" and (p.get("schema") or {}).get("type") == "array"}
    if not arrays or not any("," in v for k in arrays for v in args.getlist(k)):
        return args
    pairs = []
    for key, value in args.items(multi=True):
        if key in arrays and "," in value:
            pairs.extend((key, part.strip()) for part in value.split(",") if part.strip())
        else:
            pairs.append((key, value))
    return ImmutableMultiDict(pairs)


def json_as_form(payload: dict) -> bytes:
    """A JSON object as the form body Etsy's document describes: arrays as repeated keys,
    booleans as true/false, objects as JSON text; nulls left out."""
    pairs = []
    for key, value in payload.items():
        for item in (value if isinstance(value, list) else [value]):
            if item is None:
                continue
            if isinstance(item, bool):
                item = "true" if item else "false"
            elif isinstance(item, (dict, list)):
                item = json.dumps(item)
            pairs.append((key, str(item)))
    return urlencode(pairs).encode()


def _resolved(document: dict, schema: dict) -> dict:
    """``schema`` with ``$ref`` (and one-item ``oneOf``) replaced by what they point to, recursively."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolved(document, document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
        return {k: _resolved(document, v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolved(document, v) for v in schema]
    return schema


def _cast(value: str, kind: str | None):
    """A multipart text part as the type its schema declares (ValueError if it is not)."""
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError(value)
    return value
