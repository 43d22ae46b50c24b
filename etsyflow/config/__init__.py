"""Settings, logging and broker wiring. See :mod:`etsyflow.config.settings`."""

from .settings import ConfigError, OrdersConfig, Settings, get_settings, reset_settings

__all__ = ["ConfigError", "OrdersConfig", "Settings", "get_settings", "reset_settings"]
