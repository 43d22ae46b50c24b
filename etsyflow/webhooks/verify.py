"""Standard Webhooks verification of Etsy's notifications.

The signature check is the ``standardwebhooks`` library's (the reference
implementation of the spec): ``webhook-signature`` holds one or more
``v1,<base64 HMAC-SHA256(secret, "{webhook-id}.{webhook-timestamp}.{body}")>``,
the secret is the ``whsec_``-prefixed base64 signing secret, and timestamps
more than 5 minutes old or ahead are refused. This module only turns the
library's answers (and its crashes on malformed headers) into one exception
with a reason a person can act on.
"""

from __future__ import annotations

from typing import Mapping

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

#: Standard Webhooks' tolerance (seconds) for ``webhook-timestamp``, fixed by the library.
TOLERANCE_SECONDS = 300
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class BadSignature(Exception):
    """The notification is not provably from Etsy (or is too old): answer 401."""


class Verifier:
    """``Verifier(secret).verify(body, headers)`` → the webhook id, or :class:`BadSignature`."""

    def __init__(self, secret: str):
        if not secret or not str(secret).strip():
            raise ValueError("WEBHOOK_SIGNING_SECRET is empty")
        try:
            self._webhook = Webhook(str(secret).strip())
        except Exception as error:  # binascii.Error, EmptyWebhookSecretError
            raise ValueError(f"WEBHOOK_SIGNING_SECRET is not a whsec_… base64 secret: {type(error).__name__}") from None

    def verify(self, body: bytes, headers: Mapping[str, str]) -> str:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        missing = [h for h in HEADERS if not lowered.get(h)]
        if missing:
            raise BadSignature(f"missing header(s): {', '.join(missing)}")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadSignature("body is not UTF-8") from None
        try:
            self._webhook.verify(text, {h: lowered[h] for h in HEADERS}, json_parse=False)
        except WebhookVerificationError as error:
            raise BadSignature(_reason(str(error))) from None
        except Exception:  # malformed signature list or base64: the library raises ValueError/binascii.Error
            raise BadSignature("webhook-signature is malformed (expected \"v1,<base64>\")") from None
        return lowered["webhook-id"]


def _reason(text: str) -> str:
    return {
        "Message timestamp too old": f"webhook-timestamp is more than {TOLERANCE_SECONDS} s old",
        "Message timestamp too new": f"webhook-timestamp is more than {TOLERANCE_SECONDS} s in the future",
        "No matching signature found": "signature does not match",
        "Invalid Signature Headers": "webhook-timestamp is not a number",
    }.get(text, text)
