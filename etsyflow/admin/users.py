"""Administrator accounts: names and Argon2id password hashes in Redis.

    etsyflow:admin:users   HASH  name → JSON {hash, created_at (epoch s)}

Passwords are hashed with argon2-cffi's defaults (Argon2id, RFC 9106 low-memory
profile); a hash made with older parameters is upgraded at the next sign-in.
"""

from __future__ import annotations

import json
import re
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

USERS_KEY = "etsyflow:admin:users"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: Shortest password accepted (characters).
MIN_PASSWORD = 12
#: Longest password accepted (characters): hashing cost stays bounded.
MAX_PASSWORD = 1024

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = _hasher.hash("etsyflow: no such administrator")


class UserError(ValueError):
    """A name or password that cannot be used; ``str()`` says why."""


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME.match(name):
        raise UserError("a user name is 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"a password has at most {MAX_PASSWORD} characters")
    return password


class AdminUsers:
    """The administrators of this deployment."""

    def __init__(self, redis):
        self.redis = redis

    def add(self, name: str, password: str, *, replace: bool = False) -> bool:
        """Create (or, with ``replace``, reset) ``name``; False when it exists and ``replace`` is off."""
        name, password = check_name(name), check_password(password)
        record = json.dumps({"hash": _hasher.hash(password), "created_at": time.time()})
        if replace:
            self.redis.hset(USERS_KEY, name, record)
            return True
        return bool(self.redis.hsetnx(USERS_KEY, name, record))

    def remove(self, name: str) -> bool:
        return bool(self.redis.hdel(USERS_KEY, check_name(name)))

    def names(self) -> list[str]:
        return sorted(n.decode() if isinstance(n, bytes) else n for n in self.redis.hkeys(USERS_KEY))

    def list(self) -> list[dict]:
        out = []
        for name, raw in sorted(self.redis.hgetall(USERS_KEY).items()):
            record = json.loads(raw)
            out.append({"name": name.decode() if isinstance(name, bytes) else name,
                        "created_at": record.get("created_at")})
        return out

    def exists(self, name: str) -> bool:
        return bool(NAME.match(name or "")) and bool(self.redis.hexists(USERS_KEY, name))

    def verify(self, name: str, password: str) -> bool:
        """True when ``password`` is ``name``'s; takes as long for an unknown name."""
        raw = self.redis.hget(USERS_KEY, name) if NAME.match(name or "") else None
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            password = ""
        if raw is None:
            try:
                _hasher.verify(_DUMMY, password or "-")
            except VerificationError:
                pass
            return False
        record = json.loads(raw)
        try:
            _hasher.verify(record["hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(record["hash"]):
            record["hash"] = _hasher.hash(password)
            self.redis.hset(USERS_KEY, name, json.dumps(record))
        return True
