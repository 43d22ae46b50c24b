"""The one table that decides what an Etsy answer means for the caller.

Every Etsy status and every transport failure maps to one :class:`Action`:

=====================  =======================================================
RETRY                  500, 502, 503, 504, 408; timeouts, connection resets,
                       broken chunked bodies; the token endpoint's 500 (etsy/open-api#549).
                       Back off and try again (a few times in the call, then
                       :class:`TransientError` so Dramatiq retries later).
RATE_LIMITED           429. ``retry-after`` (seconds) is honoured. "Exceeded
                       daily rate limit" (or a retry-after of an hour or more)
                       is *daily*: park the work, do not burn retries.
REFRESH_THEN_RETRY     401 on an API call (``invalid_token``: expired or
                       revoked access token): refresh once, retry once.
AUTH_FAILED            ``invalid_grant`` from the token endpoint (refresh token
                       revoked, expired, or already rotated away): the shop
                       must be reconnected.
FAIL                   every other 4xx: permanent. Etsy's reason is made
                       readable, including the list-of-``{path, type,
                       message}`` validation shape (etsy/open-api#472).
=====================  =======================================================

Actors only catch the exception classes below; the decision lives here.
No exception ever carries a token: reasons are scrubbed before they are kept.
"""

from __future__ import annotations

import enum
import email.utils
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Mapping

import requests

from ..config.logging import _scrub


class Action(enum.Enum):
    RETRY = "retry"
    RATE_LIMITED = "rate_limited"
    REFRESH_THEN_RETRY = "refresh_then_retry"
    AUTH_FAILED = "auth_failed"
    FAIL = "fail"


# -- the table -----------------------------------------------------------------
#: API calls (``/v3/application/...``): status -> action. Any status not listed
#: is FAIL when 4xx, RETRY when 5xx (see :func:`action_for_status`).
API_STATUS_ACTIONS: dict[int, Action] = {
    401: Action.REFRESH_THEN_RETRY,
    408: Action.RETRY,
    429: Action.RATE_LIMITED,
    500: Action.RETRY,
    502: Action.RETRY,
    503: Action.RETRY,
    504: Action.RETRY,
}
#: 5xx statuses that are permanent (the server says it will never do it).
PERMANENT_5XX = {501, 505}
#: The token endpoint (``/v3/public/oauth/token``): OAuth error code -> action,
#: applied to 400/401 answers. Other codes (``invalid_client``,
#: ``invalid_request``, ``unsupported_grant_type``) are FAIL: a configuration
#: mistake that no retry fixes.
TOKEN_ERROR_ACTIONS: dict[str, Action] = {
    "invalid_grant": Action.AUTH_FAILED,
    "invalid_token": Action.AUTH_FAILED,
}
#: Transport exceptions, most specific first.
EXCEPTION_ACTIONS: list[tuple[type[BaseException], Action]] = [
    (requests.exceptions.Timeout, Action.RETRY),  # connect and read timeouts
    (requests.exceptions.ConnectionError, Action.RETRY),  # refused, reset, DNS hiccup
    (requests.exceptions.ChunkedEncodingError, Action.RETRY),  # body cut mid-way
    (requests.exceptions.ContentDecodingError, Action.RETRY),
    (requests.exceptions.RequestException, Action.FAIL),  # bad URL, bad scheme: our bug
]
#: A 429 whose retry-after is at least this (seconds) is the daily limit even
#: when the body does not say so.
DAILY_RETRY_AFTER_SECONDS = 3600
#: When Etsy says "daily" but sends no retry-after: wait this long (seconds).
DEFAULT_DAILY_RETRY_SECONDS = 3600.0
#: When Etsy says 429 per second without retry-after (seconds).
DEFAULT_SECOND_RETRY_SECONDS = 1.0


# -- exceptions actors catch ---------------------------------------------------
class EtsyError(Exception):
    """Base of every error the Etsy client raises.

    ``status`` is the HTTP status (None for transport failures), ``operation``
    the Etsy operationId, ``reason`` a readable, token-free explanation.
    """

    def __init__(self, reason: str, *, status: int | None = None, operation: str | None = None):
        self.reason = _clean(reason)
        self.status = status
        self.operation = operation
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        code = f"HTTP {self.status}: " if self.status else ""
        return f"{where}{code}{self.reason}"


class TransientError(EtsyError):
    """Etsy or the network failed in a way that may pass: retry later (Dramatiq backoff)."""


class RateLimited(EtsyError):
    """Over Etsy's quota. ``retry_after_seconds`` says when to try again.

    ``daily=True``: the day's budget is spent; park the work until then instead
    of retrying. ``daily=False``: a short wait (per-second limit) that did not
    fit in the call's bounded wait; retry after ``retry_after_seconds``.
    """

    def __init__(self, reason: str, *, retry_after_seconds: float, daily: bool,
                 status: int | None = None, operation: str | None = None):
        self.retry_after_seconds = max(0.0, float(retry_after_seconds))
        self.daily = daily
        super().__init__(reason, status=status, operation=operation)

    @property
    def retry_after(self) -> float:
        """Alias of ``retry_after_seconds`` (seconds)."""
        return self.retry_after_seconds


class AuthFailed(EtsyError):
    """The shop's tokens are revoked or unusable: nothing works until it is reconnected."""

    def __init__(self, shop_id: int | None, reason: str, *, status: int | None = None,
                 operation: str | None = None):
        self.shop_id = shop_id
        super().__init__(reason, status=status, operation=operation)

    def _describe(self) -> str:
        return f"shop {self.shop_id}: {super()._describe()}"


class PermanentError(EtsyError):
    """Etsy refused the request for good (bad input, not found, forbidden): do not retry."""


class ShopNotConnected(PermanentError):
    """No tokens were ever stored for the shop: its events are answered with a rejection
    (not parked: only a shop that was connected and lost its tokens waits for reconnection)."""

    def __init__(self, shop_id):
        self.shop_id = shop_id
        super().__init__(f"shop {shop_id} is not connected")


# -- decisions -----------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """What to do with one answer: the action, a readable reason, and for
    RATE_LIMITED the wait (seconds) and whether it is the daily limit."""

    action: Action
    reason: str
    status: int | None = None
    retry_after_seconds: float | None = None
    daily: bool = False


def action_for_status(status: int, *, token_endpoint: bool = False, oauth_error: str | None = None) -> Action:
    """The table lookup for one HTTP status (>= 400)."""
    if token_endpoint and status in (400, 401, 403):
        return TOKEN_ERROR_ACTIONS.get(oauth_error or "", Action.FAIL)
    if status in API_STATUS_ACTIONS:
        return API_STATUS_ACTIONS[status]
    if 500 <= status < 600:
        return Action.FAIL if status in PERMANENT_5XX else Action.RETRY
    return Action.FAIL


def classify_response(status: int, body: Any, headers: Mapping[str, str] | None = None, *,
                      token_endpoint: bool = False) -> Decision:
    """Decide on an error answer. ``body`` is the parsed JSON or the raw text."""
    headers = headers or {}
    reason = readable_reason(body, status)
    oauth_error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None
    action = action_for_status(status, token_endpoint=token_endpoint, oauth_error=oauth_error)
    if action is Action.RATE_LIMITED:
        retry_after = parse_retry_after(_header(headers, "retry-after"))
        daily = "daily" in reason.lower() or _header(headers, "x-remaining-today") == "0" or (
            retry_after is not None and retry_after >= DAILY_RETRY_AFTER_SECONDS)
        if retry_after is None:
            retry_after = DEFAULT_DAILY_RETRY_SECONDS if daily else DEFAULT_SECOND_RETRY_SECONDS
        return Decision(action, reason, status, retry_after, daily)
    return Decision(action, reason, status)


def classify_exception(error: BaseException) -> Decision:
    """Decide on a transport failure (no HTTP answer)."""
    for kind, action in EXCEPTION_ACTIONS:
        if isinstance(error, kind):
            return Decision(action, _transport_reason(error))
    return Decision(Action.FAIL, _transport_reason(error))


def parse_retry_after(value: str | None) -> float | None:
    """``retry-after`` in seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def readable_reason(body: Any, status: int | None = None) -> str:
    """Etsy's reason as one line a person can act on.

    Handles ``{"error": "..."}``, OAuth ``{"error", "error_description"}``,
    the validation list ``[{"path", "type", "message"}]`` (bare or under
    ``error``/``errors``) and non-JSON bodies (an HTML 502 page).
    """
    text = _reason(body)
    if not text:
        text = f"HTTP {status}" + (f" {_STATUS_NAMES.get(status, '')}".rstrip() if status else "")
    return _clean(text)


def _reason(body: Any) -> str:
    if isinstance(body, list):
        return "; ".join(_issue(item) for item in body if item) or ""
    if isinstance(body, dict):
        for key in ("errors", "error"):
            value = body.get(key)
            if isinstance(value, list):
                return _reason(value)
        error = body.get("error")
        description = body.get("error_description") or body.get("message")
        if isinstance(error, str) and isinstance(description, str) and description:
            return f"{error}: {description}"
        if isinstance(error, str):
            return error
        if isinstance(description, str):
            return description
        return ""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        stripped = body.strip()
        if stripped[:1] in "[{":
            try:
                return _reason(json.loads(stripped))
            except ValueError:
                pass
        title = re.search(r"<title>(.*?)</title>", stripped, re.IGNORECASE | re.DOTALL)
        if title:
            stripped = title.group(1)
        stripped = re.sub(r"<[^>]+>", " ", stripped)
        return " ".join(stripped.split())[:300]
    return ""


def _issue(item: Any) -> str:
    if isinstance(item, dict):
        path = item.get("path") or item.get("field") or ""
        message = item.get("message") or item.get("error") or item.get("type") or ""
        kind = item.get("type")
        path = path.lstrip("/") if isinstance(path, str) else str(path)
        text = f"{path}: {message}" if path else str(message)
        if kind and kind != message and kind not in text:
            text += f" ({kind})"
        return text
    return str(item)


def _transport_reason(error: BaseException) -> str:
    kind = type(error).__name__
    text = str(error)
    # urllib3 messages repeat the whole pool repr; keep the useful tail.
    text = re.sub(r"HTTPConnectionPool\([^)]*\)", "", text)
    return f"{kind}: {text}"[:300]


def _clean(text: str) -> str:
    """Scrub anything token-shaped from a reason (Etsy echoes input sometimes)."""
    return _scrub(" ".join(str(text).split()))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # plain dicts in tests are case-sensitive
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


_STATUS_NAMES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}
