"""Encryption at rest for shop secrets (tokens, PKCE verifiers).

AES-256-GCM with a key derived from ``SECRET_KEY`` by HKDF-SHA256, so the
operator's key is never used directly and other parts can derive their own
keys from it with a different ``info``. Each value is bound to its place
(``context``, e.g. ``"shop:123:refresh_token:v7"``: shop, field and token
version) as associated data: a ciphertext copied to another shop or field, or
an older one written back, does not decrypt.

Stored form: ``v2.<key id>.<base64url(nonce || ciphertext || tag)>``. The key
id (12 hex digits, derived from the key by HKDF with its own ``info``; it
reveals nothing of the key) says which key wrote the value, so that reading
picks the right one of ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``, and
``etsyflow keys rotate`` knows what to re-encrypt. Values of the first format,
``v1.<base64url(…)>`` (no key id, context without version), are still read.
"""

from __future__ import annotations

import base64
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..config.settings import key_weakness  # noqa: F401  (re-exported: the key rules live with the settings)

_V1 = "v1."
_V2 = "v2."
_INFO = b"etsyflow shop secrets v1"
_KEY_ID_INFO = b"etsyflow key id v1"
_SALT = b"etsyflow"


class SecretKeyMissing(RuntimeError):
    """SECRET_KEY is not set: secrets are never stored unencrypted."""

    def __init__(self):
        super().__init__(
            "SECRET_KEY is not set: etsyflow refuses to store Etsy tokens without encrypting them. "
            "Set SECRET_KEY to the output of `etsyflow keygen` and keep it: tokens stored with one "
            "key are read only with that key (SECRET_KEY, or SECRET_KEY_FALLBACKS while rotating)."
        )


class DecryptError(RuntimeError):
    """A stored secret cannot be read with the configured keys: a configuration
    error (wrong ``SECRET_KEY``), not a revoked shop."""


def generate_key() -> str:
    """A new strong key for ``SECRET_KEY`` (256 random bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def key_id(secret_key: str) -> str:
    """The public id of a key: 12 hex digits that reveal nothing of it."""
    return HKDF(algorithm=hashes.SHA256(), length=6, salt=_SALT, info=_KEY_ID_INFO).derive(
        secret_key.encode("utf-8")).hex()


def stored_key_id(stored: str | bytes | None) -> str | None:
    """The key id a stored value was written with; None for the first format."""
    if isinstance(stored, bytes):
        stored = stored.decode("ascii", "replace")
    if stored and stored.startswith(_V2):
        return stored[len(_V2):].split(".", 1)[0]
    return None


class SecretBox:
    """Encrypts with ``secret_key``; decrypts with it or any of ``fallbacks``."""

    def __init__(self, secret_key: str | None, fallbacks: tuple[str, ...] | list[str] = ()):
        if not secret_key:
            raise SecretKeyMissing()
        self._keys: dict[str, AESGCM] = {}
        for key in (secret_key, *fallbacks):
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(key.encode("utf-8"))
            self._keys.setdefault(key_id(key), AESGCM(derived))
        self.key_id = key_id(secret_key)

    @property
    def key_ids(self) -> list[str]:
        """Current key first, then the fallbacks."""
        return list(self._keys)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.key_id].encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return f"{_V2}{self.key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def current(self, stored: str | bytes | None) -> bool:
        """True when ``stored`` is already written under the current key."""
        return stored_key_id(stored) == self.key_id

    def decrypt(self, stored: str | bytes, context: str, *, legacy_context: str | None = None) -> str:
        """The plaintext; ``legacy_context`` is the context of first-format values."""
        if isinstance(stored, bytes):
            stored = stored.decode("ascii", "replace")
        if stored.startswith(_V2):
            kid, _, payload = stored[len(_V2):].partition(".")
            aead = self._keys.get(kid)
            if aead is None:
                raise DecryptError(
                    f"{context}: stored under key id {kid}, which is neither SECRET_KEY ({self.key_id}) nor "
                    "in SECRET_KEY_FALLBACKS: set SECRET_KEY (or SECRET_KEY_FALLBACKS) to the key it was "
                    "stored with")
            candidates, aad = [aead], context
        elif stored.startswith(_V1):
            candidates, aad, payload = list(self._keys.values()), legacy_context or context, stored[len(_V1):]
        else:
            raise DecryptError(f"{context}: not an etsyflow-encrypted value")
        try:
            raw = base64.urlsafe_b64decode(payload.encode("ascii"))
        except ValueError:
            raise DecryptError(f"{context}: damaged value") from None
        for aead in candidates:
            try:
                return aead.decrypt(raw[:12], raw[12:], aad.encode("utf-8")).decode("utf-8")
            except (InvalidTag, ValueError):
                continue
        raise DecryptError(
            f"{context}: cannot be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS (was the key changed, "
            "or the value copied from another place or an older version?)")
