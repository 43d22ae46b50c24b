"""Validation of the CloudEvents 1.0 envelope and errors flattened for EventRejected."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from ..messages.envelope import CloudEvent


class EnvelopeSchema(Schema):
    """A structured-mode CloudEvent; extension attributes are kept."""

    class Meta:
        unknown = INCLUDE

    specversion = fields.String(required=True, validate=validate.Equal("1.0", error="must be \"1.0\""))
    type = fields.String(required=True, validate=validate.Length(min=1, max=128))
    source = fields.String(required=True, validate=validate.Length(min=1, max=256))
    id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    time = fields.String(load_default=None, allow_none=True)
    datacontenttype = fields.String(load_default="application/json",
                                    validate=validate.OneOf(["application/json"]))
    causationid = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


def flatten_errors(messages, prefix: str = "") -> list[dict]:
    """marshmallow's nested error dict → ``[{"field": "data.images.0.url", "message": …}]``."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "event"
            out.extend(flatten_errors(value, path))
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            out.extend({"field": prefix or "event", "message": m} for m in messages)
        else:
            for m in messages:
                out.extend(flatten_errors(m, prefix))
    else:
        out.append({"field": prefix or "event", "message": str(messages)})
    return out


def load_envelope(raw) -> CloudEvent:
    """Validate a decoded JSON value as an envelope; raise ValidationError otherwise."""
    if not isinstance(raw, dict):
        raise ValidationError({"_schema": ["an event must be a JSON object"]})
    loaded = EnvelopeSchema().load(raw)
    if loaded.get("time") is None:
        loaded.pop("time", None)
    return CloudEvent.from_dict(loaded)
