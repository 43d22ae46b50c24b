"""Etsy Money objects ``{amount, divisor, currency_code}`` to :class:`~decimal.Decimal` and back.

Etsy sends money as an integer ``amount`` over a ``divisor`` (``{"amount":
2499, "divisor": 100}`` is 24.99). etsyflow carries money as Decimal (decimal
strings on the bus) and only turns it into a float where Etsy's request
schema says ``number/float`` (listing and offering prices, shipping costs).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, ROUND_HALF_EVEN
from typing import Any, Mapping


class MoneyError(ValueError):
    """A value that is not a usable amount of money."""


def money_to_decimal(money: Mapping[str, Any] | None) -> Decimal | None:
    """``{amount, divisor}`` -> Decimal (exact). None stays None.

    A missing or zero divisor means the amount is already in whole units.
    """
    if money is None:
        return None
    try:
        amount = Decimal(int(money["amount"]))
        divisor = int(money.get("divisor") or 1)
    except (KeyError, TypeError, ValueError) as error:
        raise MoneyError(f"not an Etsy Money object: {money!r}") from error
    if divisor < 0:
        raise MoneyError(f"negative divisor in {money!r}")
    return amount / Decimal(divisor)


def decimal_to_money(value: Decimal | str | int, currency_code: str, divisor: int = 100) -> dict:
    """Decimal (or decimal string) -> Etsy Money, rounding half-even to the divisor."""
    number = to_decimal(value)
    amount = (number * divisor).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return {"amount": int(amount), "divisor": divisor, "currency_code": currency_code}


def to_decimal(value: Any) -> Decimal:
    """A decimal string, int or Decimal -> Decimal. Floats are refused (they are not exact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f"money must be a decimal string, not {type(value).__name__} {value!r}")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise MoneyError(f"not a decimal amount: {value!r}") from error
    if not number.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    return number


def to_etsy_price(value: Any, places: int = 2) -> float:
    """A price for an Etsy request field typed ``number/float`` (e.g. offering ``price``).

    Rounded half-even to ``places`` first so ``24.99`` goes out as ``24.99``.
    """
    number = to_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return float(number)


def format_decimal(value: Decimal, places: int = 2) -> str:
    """Decimal -> the bus's decimal string (``"24.99"``)."""
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))
