"""Connecting a shop: OAuth 2.0 with PKCE, imported tokens, legacy token exchange.

``connect(shop_id)`` makes the login URL and keeps the PKCE verifier,
encrypted, for 10 minutes under a hash of ``state``; ``complete(redirect_url)``
takes it back exactly once (GETDEL), exchanges the code, checks that the
tokens belong to the shop that was asked for, and stores them encrypted.
``import_tokens`` and ``import_legacy`` verify before they store too. Every
successful (re)connection clears ``auth_failed`` and runs the
:data:`~etsyflow.shops.hooks.on_reconnect` hooks (replay of parked work).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from ..config.logging import get_logger
from ..etsy.client import EtsyClient
from ..etsy.errors import AuthFailed, EtsyError, PermanentError
from ..etsy.oauth import (TokenGrant, authorization_code_grant, authorize_url, code_challenge,
                          new_code_verifier, token_exchange_grant)
from ..etsy.ratelimit import RateLimiter
from ..etsy.transport import Transport
from .hooks import run_reconnect_hooks
from .store import Shop, ShopStore, check_shop_id
from .tokens import StaticTokens

log = get_logger("etsyflow.shops")

#: How long a login link stays valid (seconds).
PENDING_TTL_SECONDS = 600


class ConnectError(Exception):
    """Connecting a shop failed; ``str()`` says why and what to do, without secrets."""


@dataclass(frozen=True)
class LoginLink:
    """Where to send the seller. ``expires_in`` in seconds."""

    shop_id: int
    url: str
    expires_in: int = PENDING_TTL_SECONDS


def _require(settings, *names: str) -> None:
    missing = [env for env, attr in (("ETSY_KEYSTRING", "etsy_keystring"),
                                     ("ETSY_SHARED_SECRET", "etsy_shared_secret"),
                                     ("ETSY_REDIRECT_URI", "etsy_redirect_uri"),
                                     ("SECRET_KEY", "secret_key"))
               if env in names and not getattr(settings, attr)]
    if missing:
        raise ConnectError(f"{', '.join(missing)} not set: " + "; ".join(_WHY[m] for m in missing))


_WHY = {
    "ETSY_KEYSTRING": "the app's keystring from https://www.etsy.com/developers/your-apps",
    "ETSY_SHARED_SECRET": "the app's shared secret from the same page (Etsy needs KEYSTRING:SECRET)",
    "ETSY_REDIRECT_URI": "the redirect URI registered for the app (Etsy sends the seller back there)",
    "SECRET_KEY": "a long random key that encrypts stored tokens (refusing to store them in clear)",
}


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def connect(shop_id, *, store: ShopStore | None = None) -> LoginLink:
    """Start OAuth for ``shop_id``: returns the Etsy login URL to open in a browser."""
    shop_id = check_shop_id(shop_id)
    store = store or ShopStore()
    settings = store.settings
    _require(settings, "ETSY_KEYSTRING", "ETSY_SHARED_SECRET", "ETSY_REDIRECT_URI", "SECRET_KEY")
    verifier = new_code_verifier()
    state = secrets.token_urlsafe(24)
    pending = json.dumps({"shop_id": shop_id, "verifier": verifier,
                          "redirect_uri": settings.etsy_redirect_uri, "created_at": time.time()})
    store.redis.set(store.pending_key(_digest(state)), store.box.encrypt(pending, "oauth:pending"),
                    ex=PENDING_TTL_SECONDS)
    url = authorize_url(settings, state=state, challenge=code_challenge(verifier))
    log.info("shop_connect_started", shop_id=shop_id)
    return LoginLink(shop_id, url)


def complete(redirect_url: str, *, store: ShopStore | None = None, session=None) -> Shop:
    """Finish OAuth with the URL Etsy redirected the seller to (``?code=…&state=…``)."""
    store = store or ShopStore()
    settings = store.settings
    _require(settings, "ETSY_KEYSTRING", "ETSY_SHARED_SECRET", "SECRET_KEY")
    query = parse_qs(urlparse((redirect_url or "").strip()).query)
    first = {k: v[0] for k, v in query.items() if v}
    state = first.get("state")
    if state:
        raw = store.redis.getdel(store.pending_key(_digest(state)))
    else:
        raw = None
    if "error" in first:
        detail = first.get("error_description", "")
        raise ConnectError(f"Etsy did not grant access: {first['error']}" + (f" ({detail})" if detail else "")
                           + "; run `etsyflow shop connect` again")
    if not state or not first.get("code"):
        raise ConnectError("the redirect URL has no code and state: paste the whole URL the browser "
                           "was sent to after approving (it starts with your redirect URI)")
    if raw is None:
        raise ConnectError("this login is unknown, expired (links last 10 minutes) or already used: "
                           "run `etsyflow shop connect --shop-id N` again")
    pending = json.loads(store.box.decrypt(raw, "oauth:pending"))
    shop_id = int(pending["shop_id"])
    transport = _transport(store, session, shop_id)
    try:
        grant = authorization_code_grant(transport, code=first["code"], code_verifier=pending["verifier"],
                                         redirect_uri=pending["redirect_uri"])
    except (AuthFailed, PermanentError) as error:
        raise ConnectError(f"Etsy refused the authorization code: {error.reason}; "
                           "run `etsyflow shop connect` again") from None
    except EtsyError as error:
        raise ConnectError(f"could not reach Etsy's token endpoint: {error.reason}; the login link is "
                           "used up, run `etsyflow shop connect` again") from None
    return _verify_and_store(store, shop_id, grant, transport, session)


def import_tokens(shop_id, access_token: str, refresh_token: str, *, store: ShopStore | None = None,
                  session=None) -> Shop:
    """Store a token pair obtained elsewhere, after Etsy confirms it is for ``shop_id``.

    An expired access token is refreshed with ``refresh_token`` first (Etsy
    rotates refresh tokens: the pair then stops working wherever else it is used).
    """
    shop_id = check_shop_id(shop_id)
    store = store or ShopStore()
    _require(store.settings, "ETSY_KEYSTRING", "ETSY_SHARED_SECRET", "SECRET_KEY")
    access_token, refresh_token = _token_arg("access token", access_token), _token_arg("refresh token", refresh_token)
    transport = _transport(store, session, shop_id)
    return _verify_and_store(store, shop_id, TokenGrant(access_token, refresh_token, 3600.0), transport, session)


def import_legacy(shop_id, oauth_token: str, oauth_token_secret: str, *, store: ShopStore | None = None,
                  session=None) -> Shop:
    """Exchange an OAuth 1.0a (API v2) token for v3 tokens and store them.

    Etsy's exchange (``grant_type=token_exchange``) takes the v1 token as
    ``legacy_token``; the token secret is asked for so an operator pastes the
    complete v1 credentials, but it is not sent and not stored.
    """
    shop_id = check_shop_id(shop_id)
    store = store or ShopStore()
    _require(store.settings, "ETSY_KEYSTRING", "ETSY_SHARED_SECRET", "SECRET_KEY")
    oauth_token = _token_arg("OAuth 1.0 token", oauth_token)
    _token_arg("OAuth 1.0 token secret", oauth_token_secret)
    transport = _transport(store, session, shop_id)
    try:
        grant = token_exchange_grant(transport, oauth_token)
    except (AuthFailed, PermanentError) as error:
        raise ConnectError(f"Etsy refused to exchange the legacy token: {error.reason}") from None
    except EtsyError as error:
        raise ConnectError(f"could not reach Etsy's token endpoint: {error.reason}; try again") from None
    return _verify_and_store(store, shop_id, grant, transport, session)


def _verify_and_store(store: ShopStore, shop_id: int, grant: TokenGrant, transport: Transport, session) -> Shop:
    tokens = StaticTokens(grant.access_token, grant.refresh_token, transport, grant.expires_in)
    client = EtsyClient(shop_id, store.settings, store.redis, session, tokens=tokens,
                        limiter=transport.limiter, prefix=store.prefix)
    try:
        me = client.get_me()
        shop = client.get_shop(shop_id)
    except AuthFailed as error:
        raise ConnectError(f"Etsy rejected these tokens: {error.reason}") from None
    except PermanentError as error:
        if error.status == 404:
            raise ConnectError(f"shop {shop_id} does not exist on Etsy ({error.reason})") from None
        raise ConnectError(f"Etsy rejected these tokens: {error.reason}") from None
    except EtsyError as error:
        raise ConnectError(f"could not verify the tokens with Etsy: {error.reason}; try again") from None
    user_id = me.get("user_id")
    owner = shop.get("user_id")
    if me.get("shop_id") not in (None, shop_id) or (owner is not None and user_id is not None and owner != user_id):
        raise ConnectError(f"these tokens belong to Etsy user {user_id} (shop {me.get('shop_id')}), "
                           f"not to shop {shop_id}: log in as the owner of shop {shop_id}")
    store.save_tokens(shop_id, tokens.access, tokens.refresh_token, tokens.expires_in,
                      connected=True, user_id=user_id, shop_name=shop.get("shop_name"))
    log.info("shop_connected", shop_id=shop_id, user_id=user_id)
    run_reconnect_hooks(shop_id)
    return store.require(shop_id)


def _transport(store: ShopStore, session, shop_id: int) -> Transport:
    limiter = RateLimiter(store.redis, store.settings, prefix=store.prefix)
    return Transport(store.settings, session=session, limiter=limiter, shop_id=shop_id)


def _token_arg(what: str, value) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        raise ConnectError(f"the {what} is empty")
    if any(c.isspace() for c in value) or len(value) > 4096:
        raise ConnectError(f"the {what} does not look like a token (spaces or far too long)")
    return value
