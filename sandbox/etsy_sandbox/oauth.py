"""OAuth 2.0 as Etsy runs it: authorization code with PKCE (S256), rotating
refresh tokens, and the OAuth 1.0a → 2.0 token exchange.

Tokens look like Etsy's: ``<user_id>.<random>``. Access tokens live
``access_token_ttl_seconds`` (3600), refresh tokens 90 days; a refresh
invalidates the refresh token it used at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

from .config import ALL_SCOPES, SELLER_SCOPES
from .errors import ApiError

_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def oauth_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(status, error, description=description)


def _token(user_id: int) -> str:
    return f"{user_id}.{secrets.token_urlsafe(48)}"


def issue_tokens(state, user_id: int, keystring: str, scopes, *, access_ttl: int | None = None) -> dict:
    """A fresh token pair for ``user_id`` (caller need not hold the lock)."""
    now = time.time()
    cfg = state.config
    access_ttl = cfg.access_token_ttl_seconds if access_ttl is None else access_ttl
    scopes = frozenset(scopes.split() if isinstance(scopes, str) else scopes)
    access, refresh = _token(user_id), _token(user_id)
    with state.lock:
        state.access_tokens[access] = {"user_id": user_id, "keystring": keystring, "scopes": scopes,
                                       "expires_at": now + access_ttl}
        state.refresh_tokens[refresh] = {"user_id": user_id, "keystring": keystring, "scopes": scopes,
                                         "expires_at": now + cfg.refresh_token_ttl_seconds}
    return {"access_token": access, "token_type": "Bearer", "expires_in": access_ttl, "refresh_token": refresh}


def authenticate(state, authorization: str | None, keystring: str) -> dict:
    """The token record behind an ``Authorization: Bearer`` header, or a 401."""
    if not authorization:
        raise oauth_error(401, "invalid_request", "An OAuth access token is required for this request")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise oauth_error(401, "invalid_request", "Authorization header must be 'Bearer <access token>'")
    with state.lock:
        record = state.access_tokens.get(token.strip())
    if record is None:
        raise oauth_error(401, "invalid_token", "access token is not valid")
    if record["expires_at"] <= time.time():
        raise oauth_error(401, "invalid_token", "access token is expired")
    if record["keystring"] != keystring:
        raise oauth_error(401, "invalid_token", "access token was issued to another application")
    return record


# -- authorize page ------------------------------------------------------------

def authorize(state, args) -> tuple[int, dict, dict]:
    """``GET /oauth/connect``: validate, then approve (or deny) for the configured
    seller and redirect. Returns (status, headers, body)."""
    required = ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                "code_challenge_method"]
    missing = [name for name in required if not args.get(name)]
    if missing:
        raise ApiError(400, "invalid_request", description=f"missing parameter(s): {', '.join(missing)}")
    if args["response_type"] != "code":
        raise ApiError(400, "unsupported_response_type", description="response_type must be 'code'")
    if args["code_challenge_method"] != "S256":
        raise ApiError(400, "invalid_request", description="code_challenge_method must be S256")
    if not _CHALLENGE.match(args["code_challenge"]):
        raise ApiError(400, "invalid_request", description="code_challenge must be base64url of a SHA-256 digest")
    with state.lock:
        app = state.apps.get(args["client_id"])
        if app is None:
            raise ApiError(400, "invalid_client", description="client_id is not a known keystring")
        redirect_uri = args["redirect_uri"]
        parsed = urlsplit(redirect_uri)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ApiError(400, "invalid_request", description="redirect_uri must be an absolute http(s) URL")
        if app.redirect_uris and redirect_uri not in app.redirect_uris:
            raise ApiError(400, "invalid_request", description="redirect_uri is not registered for this app")
        scopes = args["scope"].split()
        unknown = [s for s in scopes if s not in ALL_SCOPES]
        if unknown:
            raise ApiError(400, "invalid_scope", description=f"unknown scope(s): {', '.join(unknown)}")
        user_id = state.authorize_user_id
        if user_id is None and state.shops:
            user_id = state.shops[max(state.shops)]["user_id"]
        if user_id is None or user_id not in state.users:
            raise ApiError(400, "sandbox_no_seller",
                           description="no seller to sign in as: create a shop with POST /_sandbox/shops first")
        if state.authorize_decision == "deny":
            target = _with_query(redirect_uri, {"error": "access_denied",
                                                "error_description": "The user denied the request",
                                                "state": args["state"]})
            return 302, {"Location": target}, {"redirect_to": target}
        code = secrets.token_urlsafe(32)
        state.codes[code] = {"client_id": app.keystring, "redirect_uri": redirect_uri, "scopes": frozenset(scopes),
                             "challenge": args["code_challenge"], "user_id": user_id,
                             "expires_at": time.time() + state.config.auth_code_ttl_seconds}
    target = _with_query(redirect_uri, {"code": code, "state": args["state"]})
    return 302, {"Location": target}, {"redirect_to": target, "user_id": user_id}


def _with_query(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


# -- token endpoint -------------------------------------------------------------

def token_endpoint(state, form, content_type: str) -> dict:
    """``POST /v3/public/oauth/token``, form-encoded or JSON (Etsy takes both; clients
    refresh with either). ``form`` is a mapping with ``get``. Returns the token JSON or raises."""
    if not (content_type or "").startswith(("application/x-www-form-urlencoded", "application/json")):
        raise oauth_error(400, "invalid_request",
                          "the token request must be application/x-www-form-urlencoded or application/json")
    grant_type = form.get("grant_type")
    client_id = form.get("client_id")
    with state.lock:
        state.token_requests[grant_type or "missing"] += 1
    if not grant_type:
        raise oauth_error(400, "invalid_request", "grant_type is required")
    if not client_id:
        raise oauth_error(400, "invalid_request", "client_id is required")
    with state.lock:
        if client_id not in state.apps:
            raise oauth_error(401, "invalid_client", "client_id is not a known keystring")
    if grant_type == "authorization_code":
        return _authorization_code(state, form, client_id)
    if grant_type == "refresh_token":
        return _refresh(state, form, client_id)
    if grant_type == "token_exchange":
        return _exchange(state, form, client_id)
    raise oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


def _authorization_code(state, form, client_id):
    for name in ("redirect_uri", "code", "code_verifier"):
        if not form.get(name):
            raise oauth_error(400, "invalid_request", f"{name} is required")
    verifier = form["code_verifier"]
    with state.lock:
        record = state.codes.pop(form["code"], None)  # single use, whatever happens next
    if record is None:
        raise oauth_error(400, "invalid_grant", "code is invalid or was already used")
    if record["expires_at"] <= time.time():
        raise oauth_error(400, "invalid_grant", "code has expired")
    if record["client_id"] != client_id:
        raise oauth_error(400, "invalid_grant", "code was issued to another client_id")
    if record["redirect_uri"] != form["redirect_uri"]:
        raise oauth_error(400, "invalid_grant", "redirect_uri does not match the authorization request")
    if not _VERIFIER.match(verifier):
        raise oauth_error(400, "invalid_grant", "code_verifier must be 43-128 characters of [A-Za-z0-9._~-]")
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if not hmac.compare_digest(digest, record["challenge"]):
        raise oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge")
    return issue_tokens(state, record["user_id"], client_id, record["scopes"])


def _refresh(state, form, client_id):
    token = form.get("refresh_token")
    if not token:
        raise oauth_error(400, "invalid_request", "refresh_token is required")
    user_part = token.split(".", 1)[0]
    with state.lock:
        record = state.refresh_tokens.pop(token, None)  # rotation: the old one dies now
        shop_id = state.shop_by_user.get(record["user_id"]) if record else (
            state.shop_by_user.get(int(user_part)) if user_part.isdigit() else None)
        if record is None or record["expires_at"] <= time.time() or record["keystring"] != client_id:
            state.refresh_failures_by_shop[shop_id or 0] += 1
            if record is None:
                raise oauth_error(400, "invalid_grant", "refresh_token is invalid, expired or was already used")
            if record["keystring"] != client_id:
                raise oauth_error(400, "invalid_grant", "refresh_token was issued to another client_id")
            raise oauth_error(400, "invalid_grant", "refresh_token has expired")
        state.refreshes_by_shop[shop_id or 0] += 1
    return issue_tokens(state, record["user_id"], client_id, record["scopes"])


def _exchange(state, form, client_id):
    legacy = form.get("legacy_token")
    if not legacy:
        raise oauth_error(400, "invalid_request", "legacy_token is required")
    with state.lock:
        record = state.legacy_tokens.pop(legacy, None)  # Etsy revokes the OAuth 1.0 token once exchanged
    if record is None:
        raise oauth_error(400, "invalid_grant", "legacy_token is invalid (no such token)")
    if record["keystring"] != client_id:
        raise oauth_error(400, "invalid_grant", "legacy_token belongs to another application")
    return issue_tokens(state, record["user_id"], client_id, record.get("scopes") or SELLER_SCOPES)


# -- admin helpers ---------------------------------------------------------------

def expire_access_tokens(state, *, token: str | None = None, shop_id: int | None = None) -> int:
    """Make access tokens expired now (one token, or all of a shop's owner). Returns how many."""
    now = time.time()
    count = 0
    with state.lock:
        user_id = state.shops[shop_id]["user_id"] if shop_id in state.shops else None
        for value, record in state.access_tokens.items():
            if (token is not None and value == token) or (user_id is not None and record["user_id"] == user_id):
                record["expires_at"] = now - 1
                count += 1
    return count


def revoke_shop_tokens(state, shop_id: int) -> int:
    """A password change: every access and refresh token of the shop's owner dies."""
    with state.lock:
        user_id = state.shops[shop_id]["user_id"]
        doomed = [t for t, r in state.access_tokens.items() if r["user_id"] == user_id]
        for t in doomed:
            del state.access_tokens[t]
        doomed_refresh = [t for t, r in state.refresh_tokens.items() if r["user_id"] == user_id]
        for t in doomed_refresh:
            del state.refresh_tokens[t]
        return len(doomed) + len(doomed_refresh)
