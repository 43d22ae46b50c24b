"""Etsy's OAuth 2.0: the login URL with PKCE, the code exchange and the refresh,
through requests-oauthlib's :class:`OAuth2Session`; the token endpoint is
``POST {ETSY_API_URL}/v3/public/oauth/token``, form-encoded, ``client_id`` =
the keystring alone.

The session's HTTP goes through etsyflow's :class:`~.transport.Transport`
(:class:`_TokenSession`): the shared rate limiter, the timeout and overall
deadline, and the error table — a 500 from the token endpoint (which Etsy
answers now and then, etsy/open-api#549) is retried as any other, and
``invalid_grant`` becomes :class:`AuthFailed`. oauthlib insists on https
URLs; the Transport sends to ``ETSY_API_URL`` / ``ETSY_AUTHORIZE_URL`` (plain
http only for the local sandbox), so oauthlib is given Etsy's https
addresses and never sends anything itself.

Written by hand, with the reason:

* ``token_exchange`` (+ ``legacy_token``: an OAuth 1.0a token brought over to
  v3) is Etsy's own grant, not one oauthlib knows: :func:`token_exchange_grant`;
* refresh tokens rotate on every refresh (etsy/open-api#353): the refresh
  runs under a per-shop lock in :mod:`etsyflow.shops.tokens`, which
  OAuth2Session's auto-refresh cannot provide.
"""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass, field

from oauthlib.oauth2 import OAuth2Error, WebApplicationClient
from requests_oauthlib import OAuth2Session

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


# requests-oauthlib and oauthlib log token request bodies and answers (the tokens themselves)
# at DEBUG: those records must never be written, whatever the log level.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)

#: What oauthlib is told the endpoints are (it refuses http://); never requested by it.
_ETSY_TOKEN_URL = "https://api.etsy.com" + TOKEN_PATH
_ETSY_AUTHORIZE_URL = "https://www.etsy.com/oauth/connect"


class _TokenSession(OAuth2Session):
    """An OAuth2Session whose token requests go through ``transport`` (see the module docstring)."""

    def __init__(self, transport: Transport, operation: str, **kwargs):
        super().__init__(**kwargs)
        self._transport = transport
        self._operation = operation

    def request(self, method, url, data=None, headers=None, **ignored):
        return self._transport.send(self._operation, method, TOKEN_PATH, data=data, token_endpoint=True)


def _client_id(transport: Transport, operation: str) -> str:
    client_id = transport.settings.etsy_keystring
    if not client_id:
        raise PermanentError("ETSY_KEYSTRING is not set", operation=operation)
    return client_id


def _grant(token: dict, operation: str, status: int | None = None) -> TokenGrant:
    access, refresh = token.get("access_token"), token.get("refresh_token")
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise TransientError("token endpoint answer lacks access_token/refresh_token", status=status,
                             operation=operation)
    try:
        expires_in = float(token.get("expires_in") or 3600)
    except (TypeError, ValueError):
        expires_in = 3600.0
    return TokenGrant(access, refresh, expires_in, str(token.get("token_type") or "Bearer"))


def _fetch(transport: Transport, operation: str, fetch) -> TokenGrant:
    """Run one OAuth2Session token request; an answer oauthlib cannot read is transient."""
    try:
        return _grant(fetch(), operation)
    except (OAuth2Error, ValueError) as error:
        raise TransientError(f"token endpoint answer unreadable: {type(error).__name__}",
                             operation=operation) from None


def request_token(transport: Transport, form: dict, *, operation: str = "oauthToken") -> TokenGrant:
    """POST a grant oauthlib does not know (``token_exchange``) to the token endpoint, by hand;
    errors go through the error table (``invalid_grant`` -> AuthFailed, 500 -> retried,
    other 4xx -> PermanentError)."""
    body = {"client_id": _client_id(transport, operation), **form}
    response = transport.send(operation, "POST", TOKEN_PATH, data=body, token_endpoint=True)
    try:
        data = response.json()
    except ValueError:
        raise TransientError("token endpoint answered without JSON", status=response.status_code,
                             operation=operation) from None
    return _grant(data if isinstance(data, dict) else {}, operation, response.status_code)


def refresh_grant(transport: Transport, refresh_token: str) -> TokenGrant:
    operation = "oauthTokenRefresh"
    client_id = _client_id(transport, operation)
    session = _TokenSession(transport, operation, client_id=client_id)
    return _fetch(transport, operation, lambda: session.refresh_token(
        _ETSY_TOKEN_URL, refresh_token=refresh_token, client_id=client_id))


def authorization_code_grant(transport: Transport, *, code: str, code_verifier: str,
                             redirect_uri: str) -> TokenGrant:
    operation = "oauthTokenAuthorizationCode"
    session = _TokenSession(transport, operation, client_id=_client_id(transport, operation),
                            redirect_uri=redirect_uri)
    return _fetch(transport, operation, lambda: session.fetch_token(
        _ETSY_TOKEN_URL, code=code, code_verifier=code_verifier, include_client_id=True))


def token_exchange_grant(transport: Transport, legacy_token: str) -> TokenGrant:
    return request_token(transport, {"grant_type": "token_exchange", "legacy_token": legacy_token},
                         operation="oauthTokenExchange")


# -- the login URL, with PKCE (RFC 7636, S256) ---------------------------------------
def new_code_verifier() -> str:
    """43-128 unreserved characters (oauthlib's generator; 64 here)."""
    return WebApplicationClient(None).create_code_verifier(64)


def code_challenge(verifier: str) -> str:
    """S256: base64url(sha256(verifier)) without padding."""
    return WebApplicationClient(None).create_code_challenge(verifier, "S256")


def authorize_url(settings, *, state: str, challenge: str) -> str:
    """Etsy's login page URL for the seller to approve the app (``ETSY_AUTHORIZE_URL`` + the query
    OAuth2Session builds)."""
    session = OAuth2Session(settings.etsy_keystring, redirect_uri=settings.etsy_redirect_uri,
                            scope=settings.etsy_scopes.split(), state=state)
    url, _state = session.authorization_url(_ETSY_AUTHORIZE_URL, code_challenge=challenge,
                                            code_challenge_method="S256")
    base = settings.etsy_authorize_url
    return f"{base}{'&' if '?' in base else '?'}{urllib.parse.urlsplit(url).query}"
