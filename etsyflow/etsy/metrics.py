"""Metric hooks for every Etsy call. The ops part exposes them over HTTP.

The client calls the module-level functions below; they only touch
prometheus_client objects, so they are cheap and never raise.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ETSY_REQUESTS = Counter(
    "etsyflow_etsy_requests_total",
    "Calls to Etsy by operationId and outcome (HTTP status, or the transport error kind).",
    ["operation", "status"],
)
ETSY_REQUEST_SECONDS = Histogram(
    "etsyflow_etsy_request_seconds",
    "Wall time of one Etsy HTTP call (seconds), without rate-limit waits.",
    ["operation"],
)
ETSY_RATE_LIMIT_WAIT_SECONDS = Counter(
    "etsyflow_etsy_rate_limit_wait_seconds_total",
    "Seconds spent waiting for the shared Etsy rate limit.",
)
ETSY_RATE_LIMITED = Counter(
    "etsyflow_etsy_rate_limited_total",
    "Calls refused for quota: kind=second|daily, source=local|etsy (a 429).",
    ["kind", "source"],
)
ETSY_TOKEN_REFRESHES = Counter(
    "etsyflow_etsy_token_refreshes_total",
    "Access-token refreshes by outcome (ok, reused, auth_failed, error).",
    ["outcome"],
)


def record_call(operation: str, status: int | str, seconds: float | None = None) -> None:
    """One Etsy call finished with ``status`` (an HTTP status or e.g. ``"timeout"``)."""
    ETSY_REQUESTS.labels(operation=operation, status=str(status)).inc()
    if seconds is not None:
        ETSY_REQUEST_SECONDS.labels(operation=operation).observe(seconds)


def record_rate_wait(seconds: float) -> None:
    if seconds > 0:
        ETSY_RATE_LIMIT_WAIT_SECONDS.inc(seconds)


def record_rate_limited(kind: str, source: str) -> None:
    ETSY_RATE_LIMITED.labels(kind=kind, source=source).inc()


def record_refresh(outcome: str) -> None:
    ETSY_TOKEN_REFRESHES.labels(outcome=outcome).inc()
