"""Settings, logging and broker wiring. See :mod:`etsyflow.config.settings`."""

from .settings import ConfigError, Settings, get_settings, reset_settings

__all__ = ["ConfigError", "Settings", "get_settings", "reset_settings"]
