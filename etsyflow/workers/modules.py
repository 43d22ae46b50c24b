"""Imports every handler module so their ``@handles`` registrations run."""

from . import delivery_templates, linking, listings, orders, shipments, stock  # noqa: F401
