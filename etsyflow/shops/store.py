"""Connected shops and their credentials in Redis.

Layout (``p`` is the key prefix, ``etsyflow`` by default)::

    p:shops                   SET   ids of connected shops
    p:shop:<id>               HASH  access_token, refresh_token   (encrypted, see crypto.py;
                                    bound to shop, field and token_version)
                                    expires_at (epoch s), token_version (+1 per saved pair)
                                    token_status ok|auth_failed|disconnected, auth_failed_reason
                                    user_id, shop_name, connected_at, refreshed_at,
                                    last_poll_at, settings (update_shipping_templates, send_bcc)
    p:shop:<id>:refresh-lock  STR   held by the one worker refreshing this shop
    p:oauth:pending:<sha256(state)>  encrypted PKCE verifier, 10 minutes, read once

:class:`Shop` is what other parts see: everything but the secrets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import redis as redis_lib

from ..config import get_settings
from ..state import get_redis
from .crypto import DecryptError, SecretBox, stored_key_id

#: Tries of an optimistic (WATCH) update of one shop before giving up.
_WATCH_TRIES = 50

#: Per-shop options and their defaults (both off: etsyflow changes nothing
#: the seller did not ask for).
SETTINGS: dict[str, bool] = {
    "update_shipping_templates": False,
    "send_bcc": False,
}
STATUS_OK = "ok"
STATUS_AUTH_FAILED = "auth_failed"
#: Tokens erased by an administrator; the shop stays listed until reconnected.
STATUS_DISCONNECTED = "disconnected"

_MARK_FAILED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'token_status') == ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'token_status', ARGV[1], 'auth_failed_reason', ARGV[2], 'auth_failed_at', ARGV[3])
return 1
"""


class ShopNotFound(LookupError):
    def __init__(self, shop_id: int):
        self.shop_id = shop_id
        super().__init__(f"shop {shop_id} is not connected (run `etsyflow shop connect --shop-id {shop_id}`)")


@dataclass(frozen=True)
class Shop:
    """A connected shop, without its secrets. Times are epoch seconds (float) or None."""

    shop_id: int
    shop_name: str | None = None
    user_id: int | None = None
    token_status: str = STATUS_OK
    auth_failed_reason: str | None = None
    expires_at: float | None = None
    connected_at: float | None = None
    refreshed_at: float | None = None
    last_poll_at: float | None = None
    settings: dict[str, bool] = field(default_factory=lambda: dict(SETTINGS))

    @property
    def usable(self) -> bool:
        return self.token_status == STATUS_OK

    @property
    def update_shipping_templates(self) -> bool:
        return self.settings["update_shipping_templates"]

    @property
    def send_bcc(self) -> bool:
        return self.settings["send_bcc"]

    def as_dict(self) -> dict:
        return {
            "shop_id": self.shop_id, "shop_name": self.shop_name, "user_id": self.user_id,
            "token_status": self.token_status, "auth_failed_reason": self.auth_failed_reason,
            "expires_at": self.expires_at, "connected_at": self.connected_at,
            "refreshed_at": self.refreshed_at, "last_poll_at": self.last_poll_at,
            "settings": dict(self.settings),
        }


@dataclass(frozen=True)
class TokenRecord:
    """The decrypted pair; only the token manager handles it. ``repr`` hides the secrets."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    version: int
    token_status: str
    #: How long the access token was issued for (seconds): Etsy's ``expires_in``.
    lifetime_seconds: float = 3600.0


def _lifetime(expires_at: bytes | None, refreshed_at: bytes | None) -> float:
    """Seconds between a pair's save and its access token's expiry (3600 when unknown)."""
    end, start = _float(expires_at and expires_at.decode()), _float(refreshed_at and refreshed_at.decode())
    return end - start if end and start and end > start else 3600.0


def check_shop_id(shop_id) -> int:
    """A positive whole shop id, or ValueError with the reason."""
    try:
        value = int(str(shop_id).strip())
    except (TypeError, ValueError):
        raise ValueError(f"shop id must be a positive whole number, got {shop_id!r}") from None
    if value < 1:
        raise ValueError(f"shop id must be a positive whole number, got {shop_id!r}")
    return value


class ShopStore:
    """Shops in Redis. ``redis``/``settings`` default to the process-wide ones."""

    def __init__(self, redis=None, settings=None, *, prefix: str = "etsyflow"):
        if redis is None:
            redis = get_redis()
        if settings is None:
            settings = get_settings()
        self.redis = redis
        self.settings = settings
        self.prefix = prefix
        self._box: SecretBox | None = None
        self._mark_failed = redis.register_script(_MARK_FAILED)

    # -- keys ------------------------------------------------------------------------
    @property
    def shops_key(self) -> str:
        return f"{self.prefix}:shops"

    def shop_key(self, shop_id: int) -> str:
        return f"{self.prefix}:shop:{int(shop_id)}"

    def lock_key(self, shop_id: int) -> str:
        return f"{self.prefix}:shop:{int(shop_id)}:refresh-lock"

    def pending_key(self, state_digest: str) -> str:
        return f"{self.prefix}:oauth:pending:{state_digest}"

    @property
    def box(self) -> SecretBox:
        """The cipher; raises SecretKeyMissing when SECRET_KEY is not set."""
        if self._box is None:
            self._box = SecretBox(self.settings.secret_key, getattr(self.settings, "secret_key_fallbacks", ()))
        return self._box

    @staticmethod
    def _context(shop_id: int, name: str, version: int) -> str:
        """Associated data of a token: shop, field and token version, so that neither a
        value moved to another shop or field nor an older one written back decrypts."""
        return f"shop:{shop_id}:{name}:v{version}"

    # -- what other parts use --------------------------------------------------------
    def list_shops(self) -> list[Shop]:
        ids = sorted(int(i) for i in self.redis.smembers(self.shops_key))
        shops = [self.get(i) for i in ids]
        return [s for s in shops if s is not None]

    def get(self, shop_id) -> Shop | None:
        shop_id = check_shop_id(shop_id)
        raw = self.redis.hgetall(self.shop_key(shop_id))
        if not raw:
            return None
        h = {k.decode(): v.decode() for k, v in raw.items()}
        return Shop(
            shop_id=shop_id,
            shop_name=h.get("shop_name") or None,
            user_id=_int(h.get("user_id")),
            token_status=h.get("token_status", STATUS_OK),
            auth_failed_reason=h.get("auth_failed_reason") or None,
            expires_at=_float(h.get("expires_at")),
            connected_at=_float(h.get("connected_at")),
            refreshed_at=_float(h.get("refreshed_at")),
            last_poll_at=_float(h.get("last_poll_at")),
            settings={name: h.get(f"setting:{name}", "1" if default else "0") == "1"
                      for name, default in SETTINGS.items()},
        )

    def require(self, shop_id) -> Shop:
        shop = self.get(shop_id)
        if shop is None:
            raise ShopNotFound(check_shop_id(shop_id))
        return shop

    def is_usable(self, shop_id) -> bool:
        """Connected, with tokens, not waiting to be reconnected."""
        shop = self.get(shop_id)
        return bool(shop and shop.usable and self.redis.hexists(self.shop_key(shop.shop_id), "refresh_token"))

    def set_setting(self, shop_id, name: str, value: bool) -> Shop:
        if name not in SETTINGS:
            raise ValueError(f"unknown shop setting {name!r}; known: {', '.join(sorted(SETTINGS))}")
        shop = self.require(shop_id)
        self.redis.hset(self.shop_key(shop.shop_id), f"setting:{name}", "1" if value else "0")
        return self.require(shop.shop_id)

    def mark_polled(self, shop_id, at: float | None = None) -> None:
        shop_id = check_shop_id(shop_id)
        if self.redis.exists(self.shop_key(shop_id)):
            self.redis.hset(self.shop_key(shop_id), "last_poll_at", repr(time.time() if at is None else at))

    def disconnect(self, shop_id) -> Shop:
        """Erase the shop's tokens (kept: name, settings, history).

        The shop stays listed with status ``disconnected``; work for it is
        parked, as for ``auth_failed``, until it is reconnected.
        """
        shop = self.require(shop_id)
        key = self.shop_key(shop.shop_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(key, "access_token", "refresh_token", "expires_at")
        pipe.hset(key, mapping={"token_status": STATUS_DISCONNECTED, "auth_failed_reason": "disconnected by an "
                                "administrator", "auth_failed_at": repr(time.time())})
        pipe.hincrby(key, "token_version", 1)
        pipe.execute()
        return self.require(shop.shop_id)

    # -- credentials (token manager and OAuth only) -----------------------------------
    def save_tokens(self, shop_id, access_token: str, refresh_token: str, expires_in: float, *,
                    connected: bool = False, user_id: int | None = None, shop_name: str | None = None) -> int:
        """Encrypt and store a token pair; returns the new token version.

        ``connected=True`` (connect/complete/import) also clears an
        ``auth_failed`` status and stamps ``connected_at``.
        """
        shop_id = check_shop_id(shop_id)
        box = self.box  # before touching Redis: no key, nothing stored
        key = self.shop_key(shop_id)
        with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(_WATCH_TRIES):
                try:
                    pipe.watch(key)
                    version = int(pipe.hget(key, "token_version") or 0) + 1
                    now = time.time()
                    fields = {
                        "access_token": box.encrypt(access_token, self._context(shop_id, "access_token", version)),
                        "refresh_token": box.encrypt(refresh_token, self._context(shop_id, "refresh_token", version)),
                        "expires_at": repr(now + float(expires_in)),
                        "refreshed_at": repr(now),
                        "token_version": str(version),
                    }
                    if connected:
                        fields.update({"token_status": STATUS_OK, "connected_at": repr(now)})
                        if user_id is not None:
                            fields["user_id"] = str(int(user_id))
                        if shop_name:
                            fields["shop_name"] = shop_name
                    pipe.multi()
                    pipe.hset(key, mapping=fields)
                    if connected:
                        pipe.hdel(key, "auth_failed_reason", "auth_failed_at")
                    pipe.sadd(self.shops_key, shop_id)
                    pipe.execute()
                    return version
                except redis_lib.WatchError:
                    continue
        raise RuntimeError(f"shop {shop_id}: tokens changed {_WATCH_TRIES} times while being saved")

    def load_tokens(self, shop_id) -> TokenRecord | None:
        """The decrypted pair, or None when the shop has none. Raises DecryptError on a wrong key."""
        shop_id = check_shop_id(shop_id)
        values = self.redis.hmget(self.shop_key(shop_id), "access_token", "refresh_token", "expires_at",
                                  "token_version", "token_status", "refreshed_at")
        access, refresh, expires_at, version, status, refreshed_at = values
        if not access or not refresh:
            return None
        number = _int(version and version.decode()) or 0
        return TokenRecord(
            access_token=self._decrypt(shop_id, "access_token", access, number),
            refresh_token=self._decrypt(shop_id, "refresh_token", refresh, number),
            expires_at=_float(expires_at and expires_at.decode()) or 0.0,
            version=number,
            token_status=(status or b"ok").decode(),
            lifetime_seconds=_lifetime(expires_at, refreshed_at),
        )

    def _decrypt(self, shop_id: int, name: str, stored, version: int) -> str:
        return self.box.decrypt(stored, self._context(shop_id, name, version),
                                legacy_context=f"shop:{shop_id}:{name}")

    # -- keys ---------------------------------------------------------------------------
    def rotate_keys(self) -> dict:
        """Re-encrypt every stored token under SECRET_KEY (read with any configured key).

        Returns ``{"rotated": n, "current": n, "failed": [shop ids]}``. Safe to run while
        workers run: each shop is rewritten only if its tokens did not change meanwhile
        (WATCH), and its token version is kept."""
        box = self.box
        out: dict = {"rotated": 0, "current": 0, "failed": []}
        for shop_id in sorted(int(i) for i in self.redis.smembers(self.shops_key)):
            key = self.shop_key(shop_id)
            with self.redis.pipeline(transaction=True) as pipe:
                for _ in range(_WATCH_TRIES):
                    try:
                        pipe.watch(key)
                        access, refresh, version = pipe.hmget(key, "access_token", "refresh_token", "token_version")
                        if not access or not refresh:
                            break
                        if box.current(access) and box.current(refresh):
                            out["current"] += 1
                            break
                        number = _int(version and version.decode()) or 0
                        try:
                            plain = {name: self._decrypt(shop_id, name, value, number)
                                     for name, value in (("access_token", access), ("refresh_token", refresh))}
                        except DecryptError:
                            out["failed"].append(shop_id)
                            break
                        pipe.multi()
                        pipe.hset(key, mapping={name: box.encrypt(value, self._context(shop_id, name, number))
                                                for name, value in plain.items()})
                        pipe.execute()
                        out["rotated"] += 1
                        break
                    except redis_lib.WatchError:
                        continue
        return out

    def check_keys(self) -> list[str]:
        """Problems reading the stored tokens with the configured keys (empty: all good).

        Reads one value per key id, and every first-format value; names the shops."""
        if not self.redis.scard(self.shops_key):
            return []
        try:
            box = self.box
        except Exception as error:  # SECRET_KEY missing while tokens are stored
            return [str(error)]
        unreadable: list[int] = []
        checked: set[str] = set()
        for shop_id in sorted(int(i) for i in self.redis.smembers(self.shops_key)):
            access, version = self.redis.hmget(self.shop_key(shop_id), "access_token", "token_version")
            if not access:
                continue
            kid = stored_key_id(access)
            if kid is not None and kid in checked:
                continue
            try:
                self._decrypt(shop_id, "access_token", access, _int(version and version.decode()) or 0)
            except DecryptError:
                unreadable.append(shop_id)
                continue
            if kid is not None:
                checked.add(kid)
        if not unreadable:
            return []
        shown = ", ".join(map(str, unreadable[:10])) + (" …" if len(unreadable) > 10 else "")
        return [f"SECRET_KEY cannot decrypt the tokens stored for {len(unreadable)} shop(s) ({shown}): set "
                "SECRET_KEY to the key they were stored with, or add that key to SECRET_KEY_FALLBACKS and "
                "run `etsyflow keys rotate`"]

    def token_status(self, shop_id) -> tuple[str, str | None]:
        status, reason = self.redis.hmget(self.shop_key(check_shop_id(shop_id)), "token_status", "auth_failed_reason")
        return (status or b"ok").decode(), reason.decode() if reason else None

    def mark_auth_failed(self, shop_id, reason: str) -> bool:
        """Set ``auth_failed``; True only for the one caller that changed it (publishes the event)."""
        shop_id = check_shop_id(shop_id)
        changed = self._mark_failed(keys=[self.shop_key(shop_id)],
                                    args=[STATUS_AUTH_FAILED, reason, repr(time.time())])
        return int(changed) == 1


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


__all__ = ["Shop", "ShopStore", "ShopNotFound", "TokenRecord", "SETTINGS", "check_shop_id",
           "DecryptError", "STATUS_OK", "STATUS_AUTH_FAILED", "STATUS_DISCONNECTED"]
