"""Receiver for Etsy's signed webhooks (Standard Webhooks): ``ORDER_PAID`` → poll the shop now."""

from .app import PATH, create_app, serve
from .verify import BadSignature, Verifier

__all__ = ["PATH", "BadSignature", "Verifier", "create_app", "serve"]
