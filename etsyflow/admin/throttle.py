"""Sign-in attempts limited per user name and per client address.

Fixed windows in Redis (``INCR`` + ``EXPIRE``): after :data:`PER_USER`
failed attempts for one name, or :data:`PER_ADDRESS` from one address, within
:data:`WINDOW_SECONDS`, further attempts are refused without checking the
password until the window ends. A successful sign-in clears the name's count.
Written by hand rather than with Flask-Limiter: two counters do not need a
framework, and the limits must hold across console processes (Redis).
"""

from __future__ import annotations

import hashlib

PER_USER = 5
PER_ADDRESS = 20
WINDOW_SECONDS = 900


def _key(kind: str, value: str) -> str:
    return f"etsyflow:admin:signin-fail:{kind}:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


class SignInThrottle:
    def __init__(self, redis, *, per_user: int = PER_USER, per_address: int = PER_ADDRESS,
                 window_seconds: int = WINDOW_SECONDS):
        self.redis = redis
        self.per_user = per_user
        self.per_address = per_address
        self.window_seconds = window_seconds

    def blocked_for(self, name: str, address: str) -> int:
        """Seconds until ``name`` from ``address`` may try again (0: may try now)."""
        wait = 0
        for kind, value, limit in (("user", name.lower(), self.per_user), ("addr", address, self.per_address)):
            key = _key(kind, value)
            count = int(self.redis.get(key) or 0)
            if count >= limit:
                wait = max(wait, int(self.redis.ttl(key)), 1)
        return wait

    def failed(self, name: str, address: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for kind, value in (("user", name.lower()), ("addr", address)):
            key = _key(kind, value)
            pipe.incr(key)
            pipe.expire(key, self.window_seconds, nx=True)
        pipe.execute()

    def succeeded(self, name: str) -> None:
        self.redis.delete(_key("user", name.lower()))
