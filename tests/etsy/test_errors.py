"""The error table: every Etsy status and transport failure -> one action."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests

from etsyflow.etsy.errors import (Action, AuthFailed, PermanentError, RateLimited, TransientError,
                                  classify_exception, classify_response, parse_retry_after, readable_reason)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retried(status):
    assert classify_response(status, {"error": "boom"}).action is Action.RETRY


def test_token_endpoint_500_is_retried():
    assert classify_response(500, "oops", token_endpoint=True).action is Action.RETRY


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_other_4xx_fail_with_etsys_reason(status):
    decision = classify_response(status, {"error": "Listing 12 is not in shop 3"})
    assert decision.action is Action.FAIL
    assert decision.reason == "Listing 12 is not in shop 3"


def test_per_second_429_honours_retry_after():
    d = classify_response(429, {"error": "Exceeded per second rate limit"}, {"Retry-After": "2"})
    assert (d.action, d.daily, d.retry_after_seconds) == (Action.RATE_LIMITED, False, 2.0)


def test_daily_429_is_recognised_by_its_message():
    d = classify_response(429, {"error": "Exceeded daily rate limit"}, {"retry-after": "86400"})
    assert (d.action, d.daily, d.retry_after_seconds) == (Action.RATE_LIMITED, True, 86400.0)


def test_daily_429_is_recognised_by_a_long_retry_after_or_remaining_zero():
    assert classify_response(429, "", {"retry-after": "7200"}).daily
    assert classify_response(429, {"error": "slow down"}, {"x-remaining-today": "0", "retry-after": "3"}).daily
    assert not classify_response(429, {"error": "slow down"}, {"retry-after": "3"}).daily


def test_429_without_retry_after_gets_a_default_wait():
    assert classify_response(429, {"error": "Exceeded per second rate limit"}).retry_after_seconds == 1.0
    assert classify_response(429, {"error": "Exceeded daily rate limit"}).retry_after_seconds == 3600.0


def test_retry_after_as_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= parse_retry_after(when) <= 31
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_api_401_means_refresh_then_retry():
    d = classify_response(401, {"error": "invalid_token", "error_description": "access token is expired"})
    assert d.action is Action.REFRESH_THEN_RETRY
    assert d.reason == "invalid_token: access token is expired"


def test_token_endpoint_invalid_grant_means_auth_failed():
    d = classify_response(400, {"error": "invalid_grant", "error_description": "refresh token revoked"},
                          token_endpoint=True)
    assert d.action is Action.AUTH_FAILED


@pytest.mark.parametrize("error", ["invalid_client", "invalid_request", "unsupported_grant_type"])
def test_token_endpoint_configuration_errors_fail(error):
    assert classify_response(400, {"error": error}, token_endpoint=True).action is Action.FAIL


def test_validation_list_is_made_readable():
    body = [{"path": "/title", "type": "string", "message": "must not be empty"},
            {"path": "/price", "type": "range", "message": "must be > 0"}]
    assert readable_reason(body) == "title: must not be empty (string); price: must be > 0 (range)"
    assert readable_reason({"error": body}) == readable_reason(body)
    assert classify_response(400, body).reason.startswith("title: must not be empty")


def test_html_error_pages_become_a_short_reason():
    html = "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>"
    d = classify_response(502, html)
    assert (d.action, d.reason) == (Action.RETRY, "502 Bad Gateway")
    assert classify_response(503, "").reason == "HTTP 503 Service Unavailable"


@pytest.mark.parametrize("error", [
    requests.exceptions.ReadTimeout("read timed out"),
    requests.exceptions.ConnectTimeout("connect timed out"),
    requests.exceptions.ConnectionError(ConnectionResetError(104, "Connection reset by peer")),
    requests.exceptions.ChunkedEncodingError("cut"),
])
def test_transport_failures_are_retried(error):
    assert classify_exception(error).action is Action.RETRY


def test_a_bad_url_is_our_bug_not_etsys():
    assert classify_exception(requests.exceptions.InvalidURL("nope")).action is Action.FAIL


def test_reasons_never_carry_tokens():
    body = {"error": "invalid_token",
            "error_description": "token 12345678.abcdefghijklmnopqrstuvwxyz0123 rejected; Bearer abc.def"}
    reason = classify_response(401, body).reason
    assert "abcdefghijklmnopqrstuvwxyz0123" not in reason and "abc.def" not in reason
    error = PermanentError(reason, status=401, operation="getMe")
    assert "abcdefghijklmnopqrstuvwxyz0123" not in str(error)


def test_exception_classes_carry_what_actors_need():
    limited = RateLimited("Exceeded daily rate limit", retry_after_seconds=86400, daily=True, status=429,
                          operation="getShopReceipts")
    assert limited.daily and limited.retry_after_seconds == 86400 and limited.retry_after == 86400
    assert "getShopReceipts" in str(limited) and "429" in str(limited)
    auth = AuthFailed(42, "invalid_grant: revoked")
    assert auth.shop_id == 42 and "shop 42" in str(auth)
    assert isinstance(TransientError("x"), Exception)
    # The four classes are siblings: catching one never swallows another.
    for a, b in [(TransientError, RateLimited), (TransientError, AuthFailed), (PermanentError, AuthFailed)]:
        assert not issubclass(a, b) and not issubclass(b, a)
