"""Reading request parameters the way Etsy does, with Etsy-style 400 answers.

Etsy takes form-encoded (or multipart) bodies for most writes: arrays may come
as repeated keys, as ``key[]`` or comma separated; booleans as true/false/1/0.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import bad_request

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class Params:
    """Typed access to a flat mapping of lists (query string or form)."""

    def __init__(self, multidict):
        self._data = multidict

    @classmethod
    def from_json(cls, payload: dict):
        data = {}
        for key, value in payload.items():
            if isinstance(value, list):
                data[key] = [v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list)) else _scalar(v) for v in value]
            elif value is None:
                data[key] = [None]
            else:
                data[key] = [_scalar(value)]
        return cls(_ListDict(data))

    def has(self, name: str) -> bool:
        return name in self._data or f"{name}[]" in self._data

    def keys(self):
        return [k[:-2] if k.endswith("[]") else k for k in self._data.keys()]

    def raw(self, name: str):
        values = self._data.getlist(name) + self._data.getlist(f"{name}[]")
        return values

    def str(self, name: str, *, required=False, max_length=None, default=None, allow_empty=True):
        values = self.raw(name)
        if not values or values[0] is None:
            if required:
                raise bad_request(f"Missing required parameter: {name}")
            return default
        value = values[-1]
        if not allow_empty and not value.strip():
            raise bad_request(f"{name} cannot be empty")
        if max_length is not None and len(value) > max_length:
            raise bad_request(f"{name} must be at most {max_length} characters (got {len(value)})")
        return value

    def enum(self, name: str, choices, *, required=False, default=None):
        value = self.str(name, required=required)
        if value is None:
            return default
        if value not in choices:
            raise bad_request(f"{name} must be one of {', '.join(c for c in choices if c)} (got {value!r})")
        return value

    def int(self, name: str, *, required=False, minimum=None, maximum=None, default=None, nullable=False):
        value = self.str(name, required=required)
        if value is None or (nullable and value.strip().lower() in ("", "null")):
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise bad_request(f"{name} must be an integer (got {value!r})") from None
        _range(name, number, minimum, maximum)
        return number

    def decimal(self, name: str, *, required=False, minimum=None, maximum=None, default=None, nullable=False):
        value = self.str(name, required=required)
        if value is None or (nullable and value.strip().lower() in ("", "null")):
            return default
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise bad_request(f"{name} must be a number (got {value!r})") from None
        if not number.is_finite():
            raise bad_request(f"{name} must be a finite number")
        _range(name, number, minimum, maximum)
        return number

    def bool(self, name: str, *, required=False, default=None):
        value = self.str(name, required=required)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise bad_request(f"{name} must be true or false (got {value!r})")

    def list(self, name: str, *, split=True):
        """Array parameter, or None when absent. ``split`` also splits on commas."""
        if not self.has(name):
            return None
        out = []
        for value in self.raw(name):
            if value is None:
                continue
            if split:
                out.extend(part.strip() for part in value.split(",") if part.strip())
            elif value != "":
                out.append(value)
        return out

    def int_list(self, name: str, *, minimum=1):
        values = self.list(name)
        if values is None:
            return None
        out = []
        for value in values:
            try:
                number = int(value)
            except ValueError:
                raise bad_request(f"{name} must be a list of integers (got {value!r})") from None
            _range(name, number, minimum, None)
            out.append(number)
        return out


class _ListDict:
    def __init__(self, data):
        self._data = data

    def getlist(self, key):
        return list(self._data.get(key, []))

    def __contains__(self, key):
        return key in self._data

    def keys(self):
        return self._data.keys()


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _range(name, number, minimum, maximum):
    if minimum is not None and number < minimum:
        raise bad_request(f"{name} must be at least {minimum} (got {number})")
    if maximum is not None and number > maximum:
        raise bad_request(f"{name} must be at most {maximum} (got {number})")


def to_cents(amount: Decimal) -> int:
    """Money in minor units, rounded half up (Etsy keeps two decimals)."""
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def money(cents: int, currency: str) -> dict:
    """Etsy's Money object."""
    return {"amount": int(cents), "divisor": 100, "currency_code": currency}
