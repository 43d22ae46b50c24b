"""Encryption at rest for shop secrets (tokens, PKCE verifiers).

AES-256-GCM with a key derived from ``SECRET_KEY`` by HKDF-SHA256, so the
operator's key is never used directly and other parts can derive their own
keys from it with a different ``info``. Each value is bound to its place
(``context``, e.g. ``"shop:123:refresh_token"``) as associated data: a
ciphertext copied to another shop or field does not decrypt.

Stored form: ``v1.<base64url(nonce || ciphertext || tag)>``.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PREFIX = "v1."
_INFO = b"etsyflow shop secrets v1"
_SALT = b"etsyflow"


class SecretKeyMissing(RuntimeError):
    """SECRET_KEY is not set: secrets are never stored unencrypted."""

    def __init__(self):
        super().__init__(
            "SECRET_KEY is not set: etsyflow refuses to store Etsy tokens without encrypting them. "
            "Set SECRET_KEY to a long random value (at least 16 characters), e.g. the output of "
            "`python -c \"import secrets; print(secrets.token_urlsafe(32))\"`, and keep it: "
            "tokens stored with one key cannot be read with another."
        )


class DecryptError(RuntimeError):
    """A stored secret cannot be read with the current SECRET_KEY."""


class SecretBox:
    """Encrypts and decrypts short strings with a key derived from ``secret_key``."""

    def __init__(self, secret_key: str | None):
        if not secret_key:
            raise SecretKeyMissing()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
            secret_key.encode("utf-8"))
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str | bytes, context: str) -> str:
        if isinstance(stored, bytes):
            stored = stored.decode("ascii", "replace")
        if not stored.startswith(_PREFIX):
            raise DecryptError(f"{context}: not an etsyflow-encrypted value")
        try:
            raw = base64.urlsafe_b64decode(stored[len(_PREFIX):].encode("ascii"))
            return self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError) as error:
            raise DecryptError(
                f"{context}: cannot be decrypted with the current SECRET_KEY "
                "(was it changed?); reconnect the shop or restore the old key") from error
