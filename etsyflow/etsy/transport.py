"""One HTTP exchange with Etsy, with the error table applied in the call.

:meth:`Transport.send` takes a rate-limit slot, sends with a timeout, gives
the slot back, feeds Etsy's quota headers to the limiter, records the metric,
and then does what :mod:`etsyflow.etsy.errors` decides:

* RETRY: back off (exponential, jittered) and resend, at most
  ``max_attempts`` sends and ``max_retry_seconds`` in all; then
  :class:`TransientError` so Dramatiq retries the message later;
* RATE_LIMITED: block every worker for ``retry-after``; a per-second 429 is
  waited out in the call when it fits the budget, a daily one raises
  :class:`RateLimited` (daily) at once;
* REFRESH_THEN_RETRY: raise :class:`NeedsRefresh` for the client to refresh
  the token and resend once;
* AUTH_FAILED / FAIL: raise :class:`AuthFailed` / :class:`PermanentError`.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import requests

from ..config.logging import get_logger
from . import metrics
from .errors import (Action, AuthFailed, Decision, PermanentError, RateLimited, TransientError,
                     classify_exception, classify_response)
from .ratelimit import MAX_RATE_WAIT_SECONDS

log = get_logger("etsyflow.etsy")
_local = threading.local()


def thread_session() -> requests.Session:
    """A requests Session per thread (Sessions are not safe to share across threads)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def longest_call_seconds(settings) -> float:
    """The longest one Etsy call can take, from queueing for a rate slot to its timeout (seconds)."""
    return MAX_RATE_WAIT_SECONDS + float(settings.etsy_timeout_seconds)


class NeedsRefresh(Exception):
    """Etsy said the access token is no good (401): refresh it and resend once."""

    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__(decision.reason)


class Transport:
    """Sends requests to Etsy for one shop (or none: app-level and token calls).

    Times are seconds. ``max_rate_wait_seconds`` bounds one wait for a
    per-second slot; ``max_retry_seconds`` bounds a whole call, waits included.
    """

    def __init__(self, settings, *, session: requests.Session | None = None, limiter=None,
                 shop_id: int | None = None, max_attempts: int = 4, max_retry_seconds: float = 30.0,
                 max_rate_wait_seconds: float = MAX_RATE_WAIT_SECONDS, backoff_seconds: float = 0.5,
                 max_backoff_seconds: float = 8.0, response_hook=None):
        self.settings = settings
        self._session = session
        self.limiter = limiter
        self.shop_id = shop_id
        self.max_attempts = max(1, int(max_attempts))
        self.max_retry_seconds = float(max_retry_seconds)
        self.max_rate_wait_seconds = float(max_rate_wait_seconds)
        self.backoff_seconds = float(backoff_seconds)
        self.max_backoff_seconds = float(max_backoff_seconds)
        #: Called with every requests.Response (tests use it to check the contract).
        self.response_hook = response_hook

    @property
    def session(self) -> requests.Session:
        return self._session or thread_session()

    def url(self, path: str) -> str:
        return self.settings.etsy_api_url.rstrip("/") + path

    def api_key_header(self, operation: str) -> str:
        if not self.settings.etsy_keystring:
            raise PermanentError("ETSY_KEYSTRING is not set: every Etsy call needs the app's keystring "
                                 "and shared secret (x-api-key)", operation=operation)
        if not self.settings.etsy_shared_secret:
            raise PermanentError("ETSY_SHARED_SECRET is not set: Etsy rejects x-api-key without it "
                                 "(KEYSTRING:SHARED_SECRET, since 2026-02-09)", operation=operation)
        return self.settings.api_key_header

    def send(self, operation: str, method: str, path: str, *, bearer: str | None = None,
             token_endpoint: bool = False, passthrough: tuple[int, ...] = (), **kwargs: Any) -> requests.Response:
        """Send until success or a decision to stop; returns the 2xx (or ``passthrough``) response."""
        headers = dict(kwargs.pop("headers", None) or {})
        headers["x-api-key"] = self.api_key_header(operation)
        headers.setdefault("Accept", "application/json")
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        url = self.url(path)
        started = time.monotonic()
        deadline = started + self.max_retry_seconds
        attempt = 0
        while True:
            attempt += 1
            decision, response = self._once(operation, method, url, headers, deadline, token_endpoint,
                                            passthrough, kwargs)
            if decision is None:
                return response
            action = decision.action
            if action is Action.REFRESH_THEN_RETRY:
                raise NeedsRefresh(decision)
            if action is Action.AUTH_FAILED:
                raise AuthFailed(self.shop_id, decision.reason, status=decision.status, operation=operation)
            if action is Action.FAIL:
                raise PermanentError(decision.reason, status=decision.status, operation=operation)
            if action is Action.RATE_LIMITED:
                wait = decision.retry_after_seconds or 1.0
                if self.limiter is not None:
                    self.limiter.block(seconds=wait, daily=decision.daily)
                if decision.daily:
                    log.warning("etsy_daily_limit", operation=operation, retry_after_seconds=wait)
                    raise RateLimited(decision.reason, retry_after_seconds=wait, daily=True,
                                      status=decision.status, operation=operation)
                if attempt >= self.max_attempts or time.monotonic() + wait > deadline:
                    raise RateLimited(decision.reason, retry_after_seconds=wait, daily=False,
                                      status=decision.status, operation=operation)
                log.info("etsy_rate_limited", operation=operation, retry_after_seconds=wait)
                if self.limiter is None:
                    time.sleep(wait)
                continue  # the limiter's block makes the next acquire wait
            # RETRY
            pause = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))
            pause *= random.uniform(0.5, 1.0)
            if attempt >= self.max_attempts or time.monotonic() + pause > deadline:
                raise TransientError(
                    f"{decision.reason} (gave up after {attempt} attempt(s) in "
                    f"{time.monotonic() - started:.1f} s)", status=decision.status, operation=operation)
            log.warning("etsy_retry", operation=operation, status=decision.status, reason=decision.reason,
                        attempt=attempt, pause_seconds=round(pause, 3))
            time.sleep(pause)

    def _once(self, operation, method, url, headers, deadline, token_endpoint, passthrough, kwargs):
        slot = None
        if self.limiter is not None:
            budget = max(0.0, min(self.max_rate_wait_seconds, deadline - time.monotonic()))
            slot = self.limiter.acquire(max_wait_seconds=budget, operation=operation)
        sent = time.monotonic()
        try:
            response = self.session.request(method, url, headers=headers,
                                            timeout=self.settings.etsy_timeout_seconds, **kwargs)
        except requests.RequestException as error:
            decision = classify_exception(error)
            metrics.record_call(operation, _error_kind(error), time.monotonic() - sent)
            return decision, None
        finally:
            if slot is not None:
                self.limiter.release(slot)
        elapsed = time.monotonic() - sent
        metrics.record_call(operation, response.status_code, elapsed)
        if self.limiter is not None:
            self.limiter.observe(response.headers)
        if self.response_hook is not None:
            self.response_hook(operation, response)
        log.debug("etsy_call", operation=operation, status=response.status_code, seconds=round(elapsed, 3))
        if response.status_code < 400 or response.status_code in passthrough:
            return None, response
        return classify_response(response.status_code, _body(response), response.headers,
                                 token_endpoint=token_endpoint), response


def _body(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return response.text


def _error_kind(error: BaseException) -> str:
    if isinstance(error, requests.exceptions.Timeout):
        return "timeout"
    if isinstance(error, requests.exceptions.ConnectionError):
        return "connection_error"
    return "transport_error"
