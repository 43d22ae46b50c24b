"""One function from raw bytes to a validated inbound event, or a reason why not."""

from __future__ import annotations

import json

from marshmallow import ValidationError

from ..messages.envelope import CloudEvent
from ..messages.contract import INBOUND, OUTBOUND
from .envelope import flatten_errors, load_envelope
from .events import schema_for


class Invalid(Exception):
    """An inbound event that cannot be processed; ``errors`` lists every reason."""

    def __init__(self, errors: list[dict], *, event_type: str | None = None, event_id: str | None = None):
        self.errors = errors
        self.event_type = event_type
        self.event_id = event_id
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


def _peek(raw) -> tuple[str | None, str | None]:
    if isinstance(raw, dict):
        t, i = raw.get("type"), raw.get("id")
        return (t if isinstance(t, str) else None, i if isinstance(i, str) else None)
    return None, None


def decode(body: bytes | str, *, max_bytes: int) -> object:
    """Bytes → JSON value; oversized or undecodable bodies raise :class:`Invalid`."""
    size = len(body.encode() if isinstance(body, str) else body)
    if size > max_bytes:
        raise Invalid([{"field": "event", "message": f"event is {size} bytes; the limit is {max_bytes}"}])
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise Invalid([{"field": "event", "message": f"not valid JSON: {error}"}]) from None


def validate_event(raw, *, allow_outbound: bool = False) -> tuple[CloudEvent, dict]:
    """Validate a decoded event; returns (envelope, loaded data) or raises :class:`Invalid`.

    ``loaded data`` holds Python values (``Decimal`` money); the envelope keeps
    the JSON form that was published.
    """
    event_type, event_id = _peek(raw)
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
