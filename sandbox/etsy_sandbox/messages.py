"""Etsy-style texts for requests that break Etsy's OpenAPI document.

openapi-core reports a bad request as nested exceptions whose texts carry the
validator's internals (``<ValidationError: ...>``, schema dumps). Etsy answers
with one short sentence naming the parameter; this module builds that
sentence from the exception chain.
"""

from __future__ import annotations

import re

_REQUIRED = re.compile(r"'([^']+)' is a required property")


def _schema_errors(error: BaseException):
    seen = 0
    cause: BaseException | None = error
    while cause is not None and seen < 6:
        errors = getattr(cause, "schema_errors", None)
        if errors:
            return list(errors)
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return []


def _parameter_name(error: BaseException) -> str | None:
    cause: BaseException | None = error
    for _ in range(6):
        if cause is None:
            return None
        name = getattr(cause, "name", None)
        if isinstance(name, str):
            return name
        cause = cause.__cause__ or cause.__context__
    return None


def schema_error_text(schema_error, *, where: str | None = None) -> str:
    """One Etsy-style sentence for a jsonschema ``ValidationError``."""
    missing = _REQUIRED.search(schema_error.message)
    if missing:
        return f"Missing required parameter: {missing.group(1)}"
    path = [p for p in getattr(schema_error, "absolute_path", []) if not isinstance(p, int)]
    name = where or (str(path[0]) if path else None)
    value = getattr(schema_error, "instance", None)
    validator = getattr(schema_error, "validator", None)
    expected = getattr(schema_error, "validator_value", None)
    if name is None:
        return f"Invalid request body: {schema_error.message}"
    if validator == "type":
        return f"Expected parameter '{name}' to be of type {expected}, got {value!r}"
    if validator == "enum":
        choices = ", ".join(str(c) for c in expected if c is not None)
        return f"Invalid value {value!r} for parameter '{name}': expected one of {choices}"
    if validator in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
        word = {"minimum": "at least", "maximum": "at most", "minLength": "at least", "maxLength": "at most",
                "minItems": "at least", "maxItems": "at most"}[validator]
        unit = {"minLength": " characters", "maxLength": " characters", "minItems": " items",
                "maxItems": " items"}.get(validator, "")
        return f"Parameter '{name}' must be {word} {expected}{unit}"
    return f"Invalid value for parameter '{name}'"


def etsy_message(error: BaseException) -> str:
    """An Etsy-style sentence for an openapi-core request validation error."""
    kind = type(error).__name__
    name = _parameter_name(error)
    if kind in ("MissingRequiredParameter", "MissingParameter"):
        return f"Missing required parameter: {name}"
    if kind in ("MissingRequiredRequestBody", "MissingRequestBody"):
        return "Missing request body"
    if kind == "MediaTypeNotFound" or "mimetype" in str(error):
        return "Unsupported Content-Type for this endpoint"
    if kind in ("PathNotFound", "OperationNotFound", "ServerNotFound"):
        return "Resource not found"
    errors = _schema_errors(error)
    if errors:
        return schema_error_text(errors[0], where=name)
    if name:
        return f"Invalid value for parameter '{name}'"
    return "Invalid request"
