"""The ``ORDERS_*`` knobs of the order download: part of the one
:class:`~etsyflow.config.Settings` (see :mod:`etsyflow.config.orders`)."""

from __future__ import annotations

from ..config import get_settings
from ..config.orders import OrdersConfig

__all__ = ["OrdersConfig", "get_orders_config"]


def get_orders_config() -> OrdersConfig:
    """The order knobs of the process settings (read and checked with the rest, at start)."""
    return get_settings().orders
