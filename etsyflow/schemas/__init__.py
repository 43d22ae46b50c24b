"""marshmallow schemas: event validation and the Etsy <-> domain mapping.

This package is the only place that knows Etsy's field names and the upstream
field names side by side.
"""

from .envelope import flatten_errors, load_envelope
from .events import INBOUND_SCHEMAS, schema_for
from .validate import Invalid, validate_event

__all__ = ["INBOUND_SCHEMAS", "Invalid", "flatten_errors", "load_envelope", "schema_for", "validate_event"]
