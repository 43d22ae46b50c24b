"""Access tokens for API calls: fresh, refreshed by exactly one worker at a time.

Etsy access tokens live an hour; refresh tokens rotate on every refresh
(etsy/open-api#353), so two workers refreshing the same shop at once would leave one of
them holding a dead refresh token. :class:`ShopTokens` therefore refreshes
under a per-shop Redis lock (any process, bounded wait); whoever waits for the
lock finds the new pair already saved and reuses it. The new pair is saved
before anyone uses it.

A refresh answered ``invalid_grant`` (seller revoked the app, changed the
password etsy/open-api#519, or 90 days passed) marks the shop ``auth_failed``, publishes
ONE ``ShopAuthFailed`` event and makes every later call for the shop raise
:class:`AuthFailed` at once, without calling Etsy, until the shop is
reconnected.
"""

from __future__ import annotations

import time

from redis.exceptions import LockError

from ..config.logging import get_logger
from ..etsy import metrics
from ..etsy.errors import AuthFailed, ShopNotConnected, TransientError
from ..etsy.oauth import TokenGrant, refresh_grant
from ..etsy.transport import Transport
from ..messages import CloudEvent, EventType, publish
from .crypto import DecryptError, SecretKeyMissing
from .store import STATUS_AUTH_FAILED, STATUS_DISCONNECTED, ShopStore, TokenRecord

log = get_logger("etsyflow.shops")

#: Refresh when fewer than this many seconds of the access token are left...
REFRESH_MARGIN_SECONDS = 60.0
#: ...or a tenth of the token's lifetime when that is smaller: Etsy chooses ``expires_in``, and a
#: fixed 60 s margin on a token that lives less than 60 s refreshes on every call.
REFRESH_MARGIN_SHARE = 0.1


def refresh_margin(lifetime_seconds: float, most: float = REFRESH_MARGIN_SECONDS) -> float:
    """Seconds before expiry at which a token issued for ``lifetime_seconds`` is refreshed."""
    return min(most, max(lifetime_seconds, 0.0) * REFRESH_MARGIN_SHARE)


class ShopTokens:
    """Token provider for one connected shop (what :class:`EtsyClient` asks for a Bearer)."""

    def __init__(self, shop_id: int, store: ShopStore, transport: Transport, *,
                 margin_seconds: float = REFRESH_MARGIN_SECONDS):
        self.shop_id = int(shop_id)
        self.store = store
        self.transport = transport
        self.margin_seconds = margin_seconds
        # The lock outlives the longest refresh (retries included); waiting is bounded by it too.
        self.lock_seconds = transport.max_retry_seconds + float(store.settings.etsy_timeout_seconds) + 10.0

    def access_token(self) -> str:
        """A usable access token, refreshed first if it expires within the margin."""
        record = self._load()
        if record.expires_at - time.time() < refresh_margin(record.lifetime_seconds, self.margin_seconds):
            return self.refresh(stale=record.access_token)
        return record.access_token

    def refresh(self, stale: str | None = None) -> str:
        """Refresh (once for all workers) and return the new access token.

        ``stale`` is the token the caller found expired; when the stored one
        differs and is fresh, another worker has already refreshed: reuse it.
        """
        lock = self.store.redis.lock(self.store.lock_key(self.shop_id), timeout=self.lock_seconds,
                                     sleep=0.05, blocking_timeout=self.lock_seconds)
        try:
            acquired = lock.acquire()
        except LockError as error:  # pragma: no cover - Redis trouble
            raise TransientError(f"refresh lock for shop {self.shop_id}: {error}") from error
        if not acquired:
            raise TransientError(
                f"waited {self.lock_seconds:.0f} s for another worker refreshing shop {self.shop_id}'s token")
        try:
            record = self._load()
            if stale is not None and record.access_token != stale and \
                    record.expires_at - time.time() >= refresh_margin(record.lifetime_seconds, self.margin_seconds):
                metrics.record_refresh("reused")
                return record.access_token
            return self._refresh(record)
        finally:
            try:
                lock.release()
            except LockError:  # expired while we worked: the next refresher goes ahead anyway
                log.warning("refresh_lock_expired", shop_id=self.shop_id)

    def _refresh(self, record: TokenRecord) -> str:
        try:
            grant: TokenGrant = refresh_grant(self.transport, record.refresh_token)
        except AuthFailed as error:
            latest = self.store.load_tokens(self.shop_id)
            if latest is not None and latest.refresh_token != record.refresh_token:
                # Someone rotated the pair while our lock had lapsed: theirs is good.
                metrics.record_refresh("reused")
                return latest.access_token
            self.fail(error.reason)
            metrics.record_refresh("auth_failed")
            raise AuthFailed(self.shop_id, f"Etsy refused to refresh the token ({error.reason}); "
                             f"reconnect the shop with `etsyflow shop connect --shop-id {self.shop_id}`",
                             status=error.status, operation=error.operation) from None
        except Exception:
            metrics.record_refresh("error")
            raise
        self.store.save_tokens(self.shop_id, grant.access_token, grant.refresh_token, grant.expires_in)
        metrics.record_refresh("ok")
        log.info("etsy_token_refreshed", shop_id=self.shop_id, expires_in=grant.expires_in)
        return grant.access_token

    def fail(self, reason: str) -> None:
        """Mark the shop ``auth_failed``; the caller that flips it publishes the one event."""
        if self.store.mark_auth_failed(self.shop_id, reason):
            log.warning("shop_auth_failed", shop_id=self.shop_id, reason=reason)
            publish_auth_failed(self.shop_id, reason)

    def _load(self) -> TokenRecord:
        try:
            record = self.store.load_tokens(self.shop_id)
        except (DecryptError, SecretKeyMissing) as error:
            # A configuration error (wrong or missing SECRET_KEY), not a revoked shop: the
            # shop is not marked, nothing is parked; the message is retried (Dramatiq's
            # backoff) until the operator fixes the key, and every attempt says so.
            log.error("secret_key_cannot_decrypt_tokens", shop_id=self.shop_id, error=str(error))
            raise
        if record is None:
            status, reason = self.store.token_status(self.shop_id)
            if status == STATUS_DISCONNECTED:  # known shop, tokens erased by an administrator: parked
                raise AuthFailed(self.shop_id, f"shop must be reconnected: {reason or 'disconnected'}")
            raise ShopNotConnected(self.shop_id)  # never connected: rejected, not parked
        if record.token_status == STATUS_AUTH_FAILED:
            _, reason = self.store.token_status(self.shop_id)
            raise AuthFailed(self.shop_id, f"shop must be reconnected: {reason or 'tokens revoked'}")
        return record


class StaticTokens:
    """Tokens held in memory, not stored: verifying a pair before it is saved."""

    def __init__(self, access_token: str, refresh_token: str, transport: Transport,
                 expires_in: float = 3600.0):
        self.access = access_token
        self.refresh_token = refresh_token
        self.transport = transport
        self.expires_in = expires_in
        self.refreshed = False

    def access_token(self) -> str:
        return self.access

    def refresh(self, stale: str | None = None) -> str:
        grant = refresh_grant(self.transport, self.refresh_token)
        self.access, self.refresh_token, self.expires_in = grant.access_token, grant.refresh_token, grant.expires_in
        self.refreshed = True
        return self.access


def publish_auth_failed(shop_id: int, reason: str) -> None:
    """Publish ``ShopAuthFailed`` {shop_id, reason}; a failure to publish is logged, not raised."""
    try:
        publish(CloudEvent.new(EventType.SHOP_AUTH_FAILED, {"shop_id": int(shop_id), "reason": reason}))
    except Exception as error:  # the shop is marked either way; status shows it
        log.error("shop_auth_failed_not_published", shop_id=shop_id, error=str(error))
