"""Buyer-side actions on receipts (filled in below)."""
from .errors import ApiError


def _todo(*a, **k):
    raise ApiError(501, "receipts admin not implemented yet")


create = bulk = view = act = _todo
