"""Configuration of one sandbox server.

Units are in the names: ``*_seconds`` are seconds, ``rate_per_second`` calls
per second, ``rate_per_day`` calls per rolling 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

DEFAULT_KEYSTRING = "sandboxkey"
DEFAULT_SHARED_SECRET = "sandboxsecret"
# A fixed, documented signing secret so a test can verify webhook signatures
# without asking the server; "whsec_" + base64 of 24 bytes, as Standard Webhooks uses.
DEFAULT_WEBHOOK_SECRET = "whsec_c2FuZGJveC13ZWJob29rLXNlY3JldC0wMDE="

SELLER_SCOPES = (
    "listings_r listings_w listings_d shops_r shops_w transactions_r transactions_w email_r"
)
ALL_SCOPES = frozenset(
    "address_r address_w email_r listings_d listings_r listings_w profile_r profile_w "
    "shops_r shops_w transactions_r transactions_w".split()
)


@dataclass
class SandboxConfig:
    """Everything a sandbox can be told at start; most of it can be changed later
    through ``PUT /_sandbox/config``."""

    keystring: str = DEFAULT_KEYSTRING
    shared_secret: str = field(default=DEFAULT_SHARED_SECRET, repr=False)
    rate_per_second: int = 10
    rate_per_day: int = 10000
    # "sliding": no more than rate_per_second calls in ANY 1 s interval (strict, like
    # a token bucket of size N refilled continuously); "fixed": per wall-clock second.
    rate_window: str = "sliding"
    strict: bool = True
    # Validate every /v3/application response against the OpenAPI document too and
    # record mismatches in ``violations`` (kind "response"). Costs a few ms a call.
    check_responses: bool = False
    openapi_path: str | None = None
    access_token_ttl_seconds: int = 3600
    refresh_token_ttl_seconds: int = 90 * 24 * 3600
    auth_code_ttl_seconds: int = 600
    # Physical listings outside the EU need a return policy, as on Etsy.
    require_return_policy: bool = True
    webhook_signing_secret: str = field(default=DEFAULT_WEBHOOK_SECRET, repr=False)
    webhook_url: str | None = None
    webhook_timeout_seconds: float = 5.0
    call_log_size: int = 20000
    # Upper bound of any injected delay, so a stop is never held up for long.
    max_fault_delay_seconds: float = 120.0

    def updated(self, changes: dict) -> "SandboxConfig":
        """A copy with ``changes`` applied; unknown keys or wrong types raise ValueError."""
        known = {f.name: f for f in fields(self)}
        clean = {}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown setting {key!r}")
            current = getattr(self, key)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
            elif isinstance(current, int) and not isinstance(current, bool):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{key} must be a whole number >= 0")
            elif isinstance(current, float):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise ValueError(f"{key} must be a number >= 0")
                value = float(value)
            elif value is not None and not isinstance(value, str):
                raise ValueError(f"{key} must be a string")
            clean[key] = value
        if clean.get("rate_window", self.rate_window) not in ("sliding", "fixed"):
            raise ValueError("rate_window must be 'sliding' or 'fixed'")
        return replace(self, **clean)

    def public(self) -> dict:
        """Settings as JSON for the admin API (secrets included: the admin API is a test tool)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
