"""One function from raw bytes to a validated inbound event, or a reason why not."""

from __future__ import annotations

import json
import math
import re

from marshmallow import ValidationError

from ..messages.envelope import CloudEvent
from ..messages.contract import INBOUND, OUTBOUND
from .envelope import flatten_errors, load_envelope
from .events import schema_for


class Invalid(Exception):
    """An inbound event that cannot be processed; ``errors`` lists every reason."""

    def __init__(self, errors: list[dict], *, event_type: str | None = None, event_id: str | None = None):
        self.errors = bounded_errors(errors)
        # Quoted back in the rejection: never longer than a valid one could be.
        self.event_type = event_type[:_NAME_CHARS] if isinstance(event_type, str) else event_type
        self.event_id = event_id[:_NAME_CHARS] if isinstance(event_id, str) else event_id
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


def _peek(raw) -> tuple[str | None, str | None]:
    if isinstance(raw, dict):
        t, i = raw.get("type"), raw.get("id")
        return (t if isinstance(t, str) else None, i if isinstance(i, str) else None)
    return None, None


# Deepest nesting an event may have (objects and arrays). The deepest contract
# event (ListingReady.variations[].options) is 4 levels; Python's own JSON
# parser would otherwise raise RecursionError near 1,000.
MAX_DEPTH = 32
# Longest ``type``/``id`` quoted back from an event that is refused before validation.
_NAME_CHARS = 128
# Errors listed in one EventRejected at most, and characters per field or message:
# a 140 KB invalid event must not produce a 660 KB answer.
MAX_ERRORS = 50
MAX_ERROR_CHARS = 300
# An oversized body is searched for its id and type in its first this many bytes
# only (a hard ceiling on the work spent on it).
PEEK_CEILING_BYTES = 4 * 1024 * 1024

_STRUCTURAL = re.compile(r'["\[\]{}:,]')
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _walk(value) -> str | None:
    """Check a decoded value without recursion: depth, lone surrogates, NaN/Infinity.
    Returns the first problem found, or None."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text"
            continue
        if isinstance(item, float) and not math.isfinite(item):  # a message sent straight to Dramatiq
            return "contains NaN or Infinity, which is not JSON"
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                return f"is nested more than {MAX_DEPTH} levels deep"
            children = item.items() if isinstance(item, dict) else ((None, v) for v in item)
            for key, child in children:
                if key is not None:
                    stack.append((key, depth))
                stack.append((child, depth + 1))
    return None


def peek_names(text: str) -> tuple[str | None, str | None]:
    """The top-level ``type`` and ``id`` strings of a JSON object text that could
    not be decoded whole (too big, too deep), or None each.

    A linear scan: strings are skipped with the standard library's own
    ``scanstring``, brackets counted, and it stops once both names are found.
    Written by hand because no JSON library reads a document partially."""
    from json.decoder import scanstring

    depth, pos, prev, key = 0, 0, "", None
    found: dict[str, str] = {}
    try:
        while len(found) < 2:
            match = _STRUCTURAL.search(text, pos)
            if match is None:
                break
            char, pos = match.group(), match.end()
            if char == '"':
                value, pos = scanstring(text, pos, True)
                if depth == 1 and prev == ":" and key in ("type", "id") and key not in found:
                    found[key] = value
                elif depth == 1 and prev in ("{", ","):
                    key = value
                char = '"'
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
                if depth <= 0:
                    break
            prev = char
    except ValueError:  # unterminated string: the names seen so far
        pass

    def clean(value):
        if not isinstance(value, str) or _SURROGATE.search(value):
            return None
        return value[:_NAME_CHARS]

    return clean(found.get("type")), clean(found.get("id"))


def decode(body: bytes | str, *, max_bytes: int) -> object:
    """Bytes → JSON value; raises :class:`Invalid` for anything not strict JSON
    within limits: oversized, not UTF-8, not JSON, ``NaN``/``Infinity``, numbers
    out of range, nested deeper than :data:`MAX_DEPTH`, lone surrogates.

    The rejection names the event (``type``, ``id``) whenever they can be read.
    """
    size = len(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)
    if size > max_bytes:
        head = body[:PEEK_CEILING_BYTES]
        text = head if isinstance(head, str) else bytes(head).decode("utf-8", "replace")
        event_type, event_id = peek_names(text)
        raise Invalid([{"field": "event", "message": f"event is {size} bytes; the limit is {max_bytes}"}],
                      event_type=event_type, event_id=event_id)
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError as error:
            raise Invalid([{"field": "event", "message": f"not UTF-8 text (byte {error.start})"}]) from None
    else:
        text = body
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        event_type, event_id = peek_names(text)
        raise Invalid([{"field": "event", "message": f"is nested more than {MAX_DEPTH} levels deep"}],
                      event_type=event_type, event_id=event_id) from None
    except ValueError as error:  # JSONDecodeError, NaN/Infinity, over-long integers
        raise Invalid([{"field": "event", "message": f"not valid JSON: {str(error)[:200]}"}]) from None
    return value


def bounded_errors(errors: list[dict]) -> list[dict]:
    """At most :data:`MAX_ERRORS` errors of at most :data:`MAX_ERROR_CHARS` characters
    each; the last one says how many were left out."""

    def cut(text) -> str:
        text = str(text)
        return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS - 1] + "…"

    out = [{"field": cut(e.get("field", "event")), "message": cut(e.get("message", ""))}
           for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        out.append({"field": "event", "message": f"and {len(errors) - MAX_ERRORS} more errors not listed"})
    return out


def validate_event(raw, *, allow_outbound: bool = False) -> tuple[CloudEvent, dict]:
    """Validate a decoded event; returns (envelope, loaded data) or raises :class:`Invalid`.

    ``loaded data`` holds Python values (``Decimal`` money); the envelope keeps
    the JSON form that was published.
    """
    event_type, event_id = _peek(raw)
    problem = _walk(raw)
    if problem is not None:
        if event_type and _SURROGATE.search(event_type):
            event_type = None
        if event_id and _SURROGATE.search(event_id):
            event_id = None
        raise Invalid([{"field": "event", "message": problem}], event_type=event_type, event_id=event_id)
    try:
        event = load_envelope(raw)
    except ValidationError as error:
        raise Invalid(flatten_errors(error.messages), event_type=event_type, event_id=event_id) from None
    schema = schema_for(event.type)
    if schema is None:
        if allow_outbound and event.type in OUTBOUND:
            return event, event.data
        known = ", ".join(sorted(INBOUND))
        raise Invalid([{"field": "type", "message": f"unknown event type {event.type!r}; etsyflow accepts {known}"}],
                      event_type=event.type, event_id=event.id)
    try:
        data = schema.load(event.data)
    except ValidationError as error:
        raise Invalid(flatten_errors(error.messages, "data"), event_type=event.type, event_id=event.id) from None
    return event, data
