"""The Etsy Open API v3 client: calls, error table, money, pagination, shared rate limit.

Actors use :class:`EtsyClient` and catch only the exception classes exported
here; see :mod:`etsyflow.etsy.errors` for what each means.
"""

from .client import EtsyClient, inventory_for_update
from .errors import AuthFailed, EtsyError, PermanentError, RateLimited, TransientError
from .money import decimal_to_money, format_decimal, money_to_decimal, to_etsy_price
from .pagination import iter_results
from .ratelimit import RateLimiter, remaining_today

__all__ = [
    "EtsyClient", "inventory_for_update",
    "EtsyError", "TransientError", "RateLimited", "AuthFailed", "PermanentError",
    "money_to_decimal", "decimal_to_money", "to_etsy_price", "format_decimal",
    "iter_results", "RateLimiter", "remaining_today",
]
