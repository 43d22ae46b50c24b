"""Settings read from the environment variables of the public contract.

Every value is validated once, at start, and each wrong value gets its own
message; :class:`ConfigError` lists them all so an operator fixes them in one go.
Units are in the names: ``*_SECONDS`` are seconds, ``*_PER_SECOND`` calls per
second, ``*_PER_DAY`` calls per rolling 24 h.
"""

from __future__ import annotations

import ipaddress
import math
import os
import threading
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Mapping
from urllib.parse import urlparse

from .errors import ConfigError
from .orders import OrdersConfig

__all__ = ["ConfigError", "OrdersConfig", "Settings", "get_settings", "reset_settings"]


def _secret(value: str | None) -> str | None:
    return value or None


#: Least estimated strength of SECRET_KEY (bits, from its length and character mix).
MIN_KEY_BITS = 64
MIN_KEY_LENGTH = 16


def key_weakness(key: str) -> str | None:
    """Why ``key`` is too weak for ``SECRET_KEY``, or None.

    Strength is estimated as length × the Shannon entropy of its characters:
    sixteen identical characters score 0 bits, ``etsyflow keygen``'s keys about 200.
    """
    if len(key) < MIN_KEY_LENGTH:
        return f"must be at least {MIN_KEY_LENGTH} characters"
    counts = Counter(key)
    bits = -len(key) * sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    if bits < MIN_KEY_BITS or len(counts) < 8:
        return (f"is too weak (about {max(bits, 0):.0f} bits from its length and character mix; at least "
                f"{MIN_KEY_BITS} needed)")
    return None


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Build with :meth:`from_env`."""

    redis_url: str | None = None
    broker_url: str | None = None
    events_url: str | None = None
    etsy_api_url: str = "https://api.etsy.com"
    etsy_authorize_url: str = "https://www.etsy.com/oauth/connect"
    etsy_keystring: str | None = None
    etsy_shared_secret: str | None = field(default=None, repr=False)
    etsy_redirect_uri: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    # Older keys, tried for reading only (key rotation; `etsyflow keys rotate`).
    secret_key_fallbacks: tuple = field(default=(), repr=False)
    etsy_rate_per_second: int = 10
    etsy_rate_per_day: int = 10000
    # Beyond the contract: operational knobs with safe defaults.
    etsy_timeout_seconds: float = 20.0
    etsy_scopes: str = "listings_r listings_w listings_d shops_r shops_w transactions_r transactions_w email_r"
    poll_interval_seconds: float = 300.0
    reconcile_interval_seconds: float = 3600.0
    webhook_signing_secret: str | None = field(default=None, repr=False)
    metrics_port: int | None = None
    max_event_bytes: int = 262144
    log_level: str = "INFO"
    # Operator's extra carrier aliases (JSON or CSV), merged over etsyflow/fulfilment/carriers.json.
    carriers_file: str | None = None
    # Networks (ipaddress objects) image URLs may resolve to although private or
    # loopback (IMAGE_ALLOWED_NETWORKS, comma-separated CIDRs); none by default.
    image_allowed_networks: tuple = ()
    # After a create on Etsy whose outcome is unknown (timeout, lost answer: a shipment, a new
    # listing), how long Etsy is given to show it before it is written again (seconds).
    # Env WRITE_SETTLE_SECONDS; SHIPMENT_SETTLE_SECONDS, its first name, is still read.
    write_settle_seconds: float = 10.0
    # Seconds between two refreshes of the quota and queue gauges (METRICS_REFRESH_SECONDS).
    metrics_refresh_seconds: float = 15.0
    # The order download's ORDERS_* knobs (see etsyflow.config.orders).
    orders: OrdersConfig = field(default_factory=OrdersConfig)
    # Events kept for a shop whose tokens were revoked, until it is reconnected: at most this
    # many per shop, for at most this long (seconds); beyond, each is answered with its rejection.
    parked_max_per_shop: int = 10000
    parked_max_age_seconds: float = 7 * 86400.0

    # -- derived -------------------------------------------------------------
    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: everything runs in one process in memory."""
        return not self.redis_url and not self.broker_url

    @property
    def effective_broker_url(self) -> str | None:
        return self.broker_url or self.redis_url

    @property
    def effective_events_url(self) -> str:
        return self.events_url or self.effective_broker_url or "memory://localhost/"

    @property
    def token_url(self) -> str:
        return self.etsy_api_url.rstrip("/") + "/v3/public/oauth/token"

    @property
    def api_key_header(self) -> str | None:
        """The ``x-api-key`` value: ``KEYSTRING:SHARED_SECRET`` (Etsy rejects the keystring alone since 2026-02-09)."""
        if not self.etsy_keystring:
            return None
        if self.etsy_shared_secret:
            return f"{self.etsy_keystring}:{self.etsy_shared_secret}"
        return self.etsy_keystring

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        problems: list[str] = []

        def url(name: str, schemes: tuple[str, ...]) -> str | None:
            raw = env.get(name, "").strip()
            if not raw:
                return None
            parsed = urlparse(raw)
            if parsed.scheme in ("unix", "redis+socket"):
                problems.append(f"{name}: unix sockets are not supported (the event bus and the broker share "
                                "these URLs and kombu cannot use a socket path); use redis://host:port "
                                "or rediss://host:port")
                return None
            if parsed.scheme not in schemes:
                problems.append(f"{name}={raw!r}: scheme must be one of {', '.join(schemes)}")
                return None
            if parsed.scheme not in ("memory",) and not parsed.hostname:
                problems.append(f"{name}={raw!r}: no host")
                return None
            return raw

        def integer(name: str, default: int | None, minimum: int = 1) -> int | None:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                problems.append(f"{name}={raw!r}: must be a whole number")
                return default
            if value < minimum:
                problems.append(f"{name}={raw!r}: must be at least {minimum}")
                return default
            return value

        def number(name: str, default: float, minimum: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                problems.append(f"{name}={raw!r}: must be a number")
                return default
            if value < minimum:
                problems.append(f"{name}={raw!r}: must be at least {minimum}")
                return default
            return value

        redis_url = url("REDIS_URL", ("redis", "rediss"))
        broker_url = url("BROKER_URL", ("redis", "rediss", "amqp", "amqps"))
        events_url = url("EVENTS_URL", ("redis", "rediss", "amqp", "amqps", "pyamqp", "memory"))
        api = url("ETSY_API_URL", ("http", "https")) or cls.etsy_api_url
        authorize = url("ETSY_AUTHORIZE_URL", ("http", "https")) or cls.etsy_authorize_url
        redirect = url("ETSY_REDIRECT_URI", ("http", "https"))
        if broker_url and not redis_url:
            problems.append("BROKER_URL is set but REDIS_URL is not: state (tokens, cursors, links) needs Redis")
        keystring = env.get("ETSY_KEYSTRING", "").strip() or None
        secret = _secret(env.get("ETSY_SHARED_SECRET", "").strip())
        if secret and not keystring:
            problems.append("ETSY_SHARED_SECRET is set but ETSY_KEYSTRING is not")
        secret_key = _secret(env.get("SECRET_KEY", "").strip())
        if secret_key is not None and key_weakness(secret_key):
            problems.append(f"SECRET_KEY: {key_weakness(secret_key)} (use `etsyflow keygen`)")
        fallbacks = tuple(k.strip() for k in env.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip())
        for position, key in enumerate(fallbacks, 1):
            if key_weakness(key):
                problems.append(f"SECRET_KEY_FALLBACKS: key {position} {key_weakness(key)}")
        if fallbacks and secret_key is None:
            problems.append("SECRET_KEY_FALLBACKS is set but SECRET_KEY is not: new values are written "
                            "with SECRET_KEY")
        image_networks: list = []
        for item in env.get("IMAGE_ALLOWED_NETWORKS", "").split(","):
            if not item.strip():
                continue
            try:
                image_networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                problems.append(f"IMAGE_ALLOWED_NETWORKS: {item.strip()!r} is not a network "
                                "(comma-separated CIDRs such as 10.20.0.0/16,127.0.0.1/32)")
        level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            problems.append(f"LOG_LEVEL={level!r}: must be DEBUG, INFO, WARNING or ERROR")
        settings = cls(
            redis_url=redis_url,
            broker_url=broker_url,
            events_url=events_url,
            etsy_api_url=api.rstrip("/"),
            etsy_authorize_url=authorize,
            etsy_keystring=keystring,
            etsy_shared_secret=secret,
            etsy_redirect_uri=redirect,
            secret_key=secret_key,
            secret_key_fallbacks=fallbacks,
            etsy_rate_per_second=integer("ETSY_RATE_PER_SECOND", 10),
            etsy_rate_per_day=integer("ETSY_RATE_PER_DAY", 10000),
            etsy_timeout_seconds=number("ETSY_TIMEOUT_SECONDS", 20.0, 0.1),
            etsy_scopes=env.get("ETSY_SCOPES", cls.etsy_scopes).strip() or cls.etsy_scopes,
            poll_interval_seconds=number("POLL_INTERVAL_SECONDS", 300.0, 1.0),
            reconcile_interval_seconds=number("RECONCILE_INTERVAL_SECONDS", 3600.0, 10.0),
            webhook_signing_secret=_secret(env.get("WEBHOOK_SIGNING_SECRET", "").strip()),
            metrics_port=integer("METRICS_PORT", None, 1),
            max_event_bytes=integer("MAX_EVENT_BYTES", 262144, 1024),
            log_level=level,
            carriers_file=env.get("CARRIERS_FILE", "").strip() or None,
            image_allowed_networks=tuple(image_networks),
            write_settle_seconds=number("WRITE_SETTLE_SECONDS" if env.get("WRITE_SETTLE_SECONDS", "").strip()
                                        else "SHIPMENT_SETTLE_SECONDS", 10.0, 0.0),
            metrics_refresh_seconds=number("METRICS_REFRESH_SECONDS", 15.0, 0.2),
            orders=OrdersConfig.from_env(env, problems),
            parked_max_per_shop=integer("PARKED_MAX_PER_SHOP", 10000, 1),
            parked_max_age_seconds=number("PARKED_MAX_AGE_SECONDS", 7 * 86400.0, 1.0),
        )
        if problems:
            raise ConfigError(problems)
        return settings

    def with_overrides(self, **changes) -> "Settings":
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


_lock = threading.Lock()
_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Settings.from_env()
        return _current


def reset_settings(settings: Settings | None = None) -> None:
    """Forget (or replace) the cached settings; tests and the CLI use this."""
    global _current
    with _lock:
        _current = settings
