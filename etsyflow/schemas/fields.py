"""Custom marshmallow fields shared by the event schemas."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import ValidationError, fields


#: Largest money amount any event may carry (any currency). Bounded so that every
#: amount fits Decimal's default 28-digit context with its cents: 1e27 would pass
#: validation and then fail when formatted.
MAX_MONEY = Decimal("1000000000")
#: Largest whole number any event may carry: Etsy's ids are 64-bit signed integers.
MAX_INTEGER = 2**63 - 1


class Money(fields.Field):
    """A money amount: a decimal string (``"24.99"``) or a whole number; never a float.
    At most :data:`MAX_MONEY` and 2 decimal places.

    Loads to :class:`~decimal.Decimal`, dumps to a decimal string.
    """

    default_error_messages = {
        "invalid": 'must be a decimal string such as "24.99"',
        "float": 'must be a decimal string such as "24.99", not a JSON float (floats lose cents)',
        "places": "has more than 2 decimal places",
        "negative": "must not be negative",
        "too_large": f"must be at most {MAX_MONEY}",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float):
            raise self.make_error("float")
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or len(value) > 64:
            raise self.make_error("invalid")
        try:
            amount = Decimal(value.strip())
        except (InvalidOperation, ValueError):
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        if amount < 0:
            raise self.make_error("negative")
        if amount > MAX_MONEY:
            raise self.make_error("too_large")
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise self.make_error("places")
        return amount

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return str(Decimal(value).quantize(Decimal("0.01")))


class ShopId(fields.Integer):
    """An Etsy shop id: a positive integer (a numeric string is accepted)."""

    def __init__(self, **kwargs):
        from marshmallow import validate

        super().__init__(strict=False, validate=validate.Range(min=1, max=MAX_INTEGER), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (bool, float)):
            raise ValidationError("must be a whole number")
        if isinstance(value, str) and len(value) > 20:
            raise ValidationError(f"must be at most {MAX_INTEGER}")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictInteger(fields.Integer):
    """An integer that refuses floats and booleans (``2.5`` is not a quantity), and
    anything beyond ±:data:`MAX_INTEGER` whatever the field's own range."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("must be a whole number")
        number = super()._deserialize(value, attr, data, **kwargs)
        if abs(number) > MAX_INTEGER:
            raise ValidationError(f"must be at most {MAX_INTEGER}")
        return number
