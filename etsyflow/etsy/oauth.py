"""Etsy's OAuth 2.0 token endpoint (``POST {ETSY_API_URL}/v3/public/oauth/token``).

Three grants, all form-encoded with ``client_id`` = the keystring alone:
``authorization_code`` (+ ``redirect_uri, code, code_verifier``),
``refresh_token`` (+ ``refresh_token``; the answer carries a NEW refresh
token, etsy/open-api#353) and ``token_exchange`` (+ ``legacy_token``: an OAuth 1.0a token
brought over to v3).

Hand-written rather than requests-oauthlib's OAuth2Session: oauthlib refuses
``http://`` URLs (the local sandbox) unless a process-wide environment
variable switches the check off for everything, and it turns a 500 from the
token endpoint (which Etsy answers now and then, etsy/open-api#549) into a parse error;
here the answer goes through the same error table as every other call.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse
from dataclasses import dataclass, field

from .errors import PermanentError, TransientError
from .transport import Transport

TOKEN_PATH = "/v3/public/oauth/token"


@dataclass(frozen=True)
class TokenGrant:
    """A token answer. ``expires_in`` in seconds. ``repr`` hides the tokens."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: float = 3600.0
    token_type: str = "Bearer"

    @property
    def user_id(self) -> int | None:
        """Etsy access tokens look like ``<user_id>.<token>``."""
        head = self.access_token.split(".", 1)[0]
        return int(head) if head.isdigit() else None


def request_token(transport: Transport, form: dict, *, operation: str = "oauthToken") -> TokenGrant:
    """POST one grant to the token endpoint; errors go through the error table
    (``invalid_grant`` -> AuthFailed, 500 -> retried, other 4xx -> PermanentError)."""
    client_id = transport.settings.etsy_keystring
    if not client_id:
        raise PermanentError("ETSY_KEYSTRING is not set", operation=operation)
    body = {"client_id": client_id, **form}
    response = transport.send(operation, "POST", TOKEN_PATH, data=body, token_endpoint=True)
    try:
        data = response.json()
    except ValueError:
        raise TransientError("token endpoint answered without JSON", status=response.status_code,
                             operation=operation) from None
    access, refresh = data.get("access_token"), data.get("refresh_token")
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise TransientError("token endpoint answer lacks access_token/refresh_token",
                             status=response.status_code, operation=operation)
    try:
        expires_in = float(data.get("expires_in") or 3600)
    except (TypeError, ValueError):
        expires_in = 3600.0
    return TokenGrant(access, refresh, expires_in, str(data.get("token_type") or "Bearer"))


def refresh_grant(transport: Transport, refresh_token: str) -> TokenGrant:
    return request_token(transport, {"grant_type": "refresh_token", "refresh_token": refresh_token},
                         operation="oauthTokenRefresh")


def authorization_code_grant(transport: Transport, *, code: str, code_verifier: str,
                             redirect_uri: str) -> TokenGrant:
    return request_token(transport, {"grant_type": "authorization_code", "redirect_uri": redirect_uri,
                                     "code": code, "code_verifier": code_verifier},
                         operation="oauthTokenAuthorizationCode")


def token_exchange_grant(transport: Transport, legacy_token: str) -> TokenGrant:
    return request_token(transport, {"grant_type": "token_exchange", "legacy_token": legacy_token},
                         operation="oauthTokenExchange")


# -- PKCE (RFC 7636) ---------------------------------------------------------------
def new_code_verifier() -> str:
    """43-128 unreserved characters; 64 here (48 random bytes)."""
    return secrets.token_urlsafe(48)


def code_challenge(verifier: str) -> str:
    """S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(settings, *, state: str, challenge: str) -> str:
    """Etsy's login page URL for the seller to approve the app."""
    query = urllib.parse.urlencode({
        "response_type": "code",
        "client_id": settings.etsy_keystring,
        "redirect_uri": settings.etsy_redirect_uri,
        "scope": settings.etsy_scopes,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }, quote_via=urllib.parse.quote)
    base = settings.etsy_authorize_url
    return f"{base}{'&' if '?' in base else '?'}{query}"
