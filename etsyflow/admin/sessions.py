"""Administrator sessions: a random id in a signed cookie, the session itself in Redis.

    etsyflow:admin:session:<sha256(id)>  HASH  user, created_at; TTL = idle timeout

The cookie (Flask's itsdangerous-signed session, key derived from
``SECRET_KEY``) carries only the session id and the CSRF token. Every request
that finds the Redis record pushes its expiry back by the idle timeout; an
idle session simply expires. Signing out, or removing the user, deletes it at
once — a copied cookie is then worth nothing. Sessions also end
:data:`MAX_AGE_SECONDS` after sign-in, however busy.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

IDLE_SECONDS = 900
MAX_AGE_SECONDS = 12 * 3600


def cookie_key(secret_key: str) -> bytes:
    """The cookie-signing key: HKDF of SECRET_KEY with its own ``info`` (never SECRET_KEY itself)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"etsyflow",
                info=b"etsyflow admin session cookie v1").derive(secret_key.encode("utf-8"))


def _key(session_id: str) -> str:
    return "etsyflow:admin:session:" + hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class Sessions:
    def __init__(self, redis, *, idle_seconds: int = IDLE_SECONDS, max_age_seconds: int = MAX_AGE_SECONDS):
        self.redis = redis
        self.idle_seconds = int(idle_seconds)
        self.max_age_seconds = int(max_age_seconds)

    def open(self, user: str) -> str:
        session_id = secrets.token_urlsafe(32)
        key = _key(session_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"user": user, "created_at": repr(time.time())})
        pipe.expire(key, self.idle_seconds)
        pipe.execute()
        return session_id

    def touch(self, session_id: str | None, *, activity: bool = True) -> str | None:
        """The user of a live session, or None. ``activity``: restart its idle clock (not for the
        live tail's background polling, which would otherwise keep an abandoned tab signed in)."""
        if not session_id or not isinstance(session_id, str):
            return None
        key = _key(session_id)
        user, created = self.redis.hmget(key, "user", "created_at")
        if user is None:
            return None
        if created is None or time.time() - float(created) > self.max_age_seconds:
            self.redis.delete(key)
            return None
        user = user.decode()
        from .users import USERS_KEY

        if not self.redis.hexists(USERS_KEY, user):  # removed meanwhile
            self.redis.delete(key)
            return None
        if activity:
            self.redis.expire(key, self.idle_seconds)
        return user

    def close(self, session_id: str | None) -> None:
        if session_id and isinstance(session_id, str):
            self.redis.delete(_key(session_id))


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
