"""The bridge process: bus → validation → Dramatiq actors."""

from .consumer import Bridge

__all__ = ["Bridge"]
