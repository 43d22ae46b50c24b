"""Imports every handler module so their ``@handles`` registrations run."""

from . import delivery_templates, listings, orders, shipments, stock  # noqa: F401
