"""Schemas of the inbound events' ``data`` (the upstream side of the contract).

Each schema rejects what Etsy would refuse anyway (limits from Etsy's OpenAPI
document and documentation), so the upstream learns at once and in its own
words, instead of from a failed call minutes later.
"""

from __future__ import annotations

import re
from datetime import datetime

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from ..messages.contract import CONTRACT
from .fields import Money, ShopId, StrictInteger

WHO_MADE = ["i_did", "someone_else", "collective"]
WHEN_MADE = [
    "made_to_order", "2020_2026", "2010_2019", "2007_2009", "before_2007", "2000_2006",
    "1990s", "1980s", "1970s", "1960s", "1950s", "1940s", "1930s", "1920s", "1910s", "1900s",
    "1800s", "1700s", "before_1700",
]
# Etsy regions for shipping destinations.
REGIONS = ["eu", "non_eu", "none"]
MAX_IMAGES = 10
MAX_TAGS = 13
MAX_TAG_LENGTH = 20
MAX_MATERIALS = 13
MAX_TITLE = 140
MAX_QUANTITY = 999
MAX_PRICE = 50000  # Etsy's upper price bound, in the listing currency

_TAG_OK = re.compile(r"^[\w\s\-'™©®]+$", re.UNICODE)
_MATERIAL_OK = re.compile(r"^[\w\s]+$", re.UNICODE)


def _rfc3339(value: str) -> None:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise ValidationError("must be an RFC 3339 time such as 2026-11-29T12:00:00Z") from None


class _Data(Schema):
    class Meta:
        unknown = EXCLUDE  # upstreams may send more than we use


class DestinationSchema(_Data):
    country_iso = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$", error="must be a 2-letter ISO country code"))
    region = fields.String(validate=validate.OneOf(REGIONS))
    primary_cost = Money(required=True)
    secondary_cost = Money(required=True)
    min_delivery_days = StrictInteger(required=True, validate=validate.Range(min=1, max=45))
    max_delivery_days = StrictInteger(required=True, validate=validate.Range(min=1, max=45))

    @validates_schema
    def _one_target(self, data, **kwargs):
        if bool(data.get("country_iso")) == bool(data.get("region")):
            raise ValidationError("give exactly one of country_iso or region", "country_iso")
        if data.get("min_delivery_days", 0) > data.get("max_delivery_days", 99):
            raise ValidationError("must not exceed max_delivery_days", "min_delivery_days")


class DeliveryTemplateReadySchema(_Data):
    shop_id = ShopId(required=True)
    template_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    title = fields.String(required=True, validate=validate.Length(min=1, max=140))
    origin_country_iso = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="must be a 2-letter ISO country code"))
    origin_postal_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    # Etsy's processing profile holds 1-10 days or 1-10 weeks: up to 70 days.
    processing_min_days = StrictInteger(required=True, validate=validate.Range(
        min=1, max=70, error="must be between 1 and 70 days (Etsy's processing time is at most 10 weeks)"))
    processing_max_days = StrictInteger(required=True, validate=validate.Range(
        min=1, max=70, error="must be between 1 and 70 days (Etsy's processing time is at most 10 weeks)"))
    # Beyond the contract: Etsy's readiness state of the processing profile.
    readiness_state = fields.String(load_default="ready_to_ship",
                                    validate=validate.OneOf(["ready_to_ship", "made_to_order"]))
    destinations = fields.List(fields.Nested(DestinationSchema), required=True,
                               validate=validate.Length(min=1, max=100, error="needs between 1 and 100 destinations"))

    @validates_schema
    def _processing(self, data, **kwargs):
        if data.get("processing_min_days", 0) > data.get("processing_max_days", 99):
            raise ValidationError("must not exceed processing_max_days", "processing_min_days")
        targets = [d.get("country_iso") or f"region {d.get('region')}" for d in data.get("destinations") or []]
        repeated = sorted({t for t in targets if targets.count(t) > 1})
        if repeated:
            raise ValidationError(f"each destination may appear once; repeated: {', '.join(repeated)}",
                                  "destinations")


class ImageSchema(_Data):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    alt_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class SpecificSchema(_Data):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    value = fields.String(required=True, validate=validate.Length(min=1, max=255))


class VariationSchema(_Data):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=32))
    options = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=45)),
                          values=fields.String(validate=validate.Length(min=1, max=45)),
                          required=True, validate=validate.Length(min=1, max=2, error="Etsy allows 1 or 2 variation options"))
    price = Money(required=True)
    quantity = StrictInteger(required=True, validate=validate.Range(min=0, max=MAX_QUANTITY))


def _tag(value: str) -> None:
    if len(value) > MAX_TAG_LENGTH:
        raise ValidationError(f"a tag has at most {MAX_TAG_LENGTH} characters")
    if not _TAG_OK.match(value) or "_" in value:
        raise ValidationError("a tag has only letters, numbers, spaces, - and '")


def _material(value: str) -> None:
    if not _MATERIAL_OK.match(value) or "_" in value:
        raise ValidationError("a material has only letters, numbers and spaces")


class ListingReadySchema(_Data):
    shop_id = ShopId(required=True)
    product_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    sku = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    title = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TITLE))
    description = fields.String(required=True, validate=validate.Length(min=1, max=50000))
    price = Money(required=True)
    rrp = Money(load_default=None, allow_none=True)
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$", error="must be a 3-letter ISO currency code"))
    quantity = StrictInteger(required=True, validate=validate.Range(min=0, max=MAX_QUANTITY))
    taxonomy_id = StrictInteger(required=True, validate=validate.Range(min=1))
    who_made = fields.String(required=True, validate=validate.OneOf(WHO_MADE))
    when_made = fields.String(required=True, validate=validate.OneOf(WHEN_MADE))
    delivery_template_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    images = fields.List(fields.Nested(ImageSchema), load_default=list,
                         validate=validate.Length(max=MAX_IMAGES, error=f"Etsy allows at most {MAX_IMAGES} images"))
    tags = fields.List(fields.String(validate=_tag), load_default=list,
                       validate=validate.Length(max=MAX_TAGS, error=f"Etsy allows at most {MAX_TAGS} tags"))
    materials = fields.List(fields.String(validate=[validate.Length(min=1, max=45), _material]), load_default=list,
                            validate=validate.Length(max=MAX_MATERIALS, error=f"Etsy allows at most {MAX_MATERIALS} materials"))
    specifics = fields.List(fields.Nested(SpecificSchema), load_default=list)
    variations = fields.List(fields.Nested(VariationSchema), load_default=list,
                             validate=validate.Length(max=400, error="Etsy allows at most 400 variation combinations"))
    state = fields.String(load_default="active", validate=validate.OneOf(["active", "draft"]))

    @validates_schema
    def _consistent(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        price, rrp = data.get("price"), data.get("rrp")
        if price is not None and not (0 < price <= MAX_PRICE):
            errors.setdefault("price", []).append(f"must be more than 0 and at most {MAX_PRICE}")
        if price is not None and rrp is not None and rrp < price:
            errors.setdefault("rrp", []).append("the recommended retail price must not be below the price")
        variations = data.get("variations") or []
        if variations:
            names = [tuple(sorted(v["options"])) for v in variations]
            if len(set(names)) > 1:
                errors.setdefault("variations", []).append("every variation must name the same options")
            combos = [tuple(sorted(v["options"].items())) for v in variations]
            if len(set(combos)) != len(combos):
                errors.setdefault("variations", []).append("two variations have the same option values")
            skus = [v["sku"] for v in variations]
            if len(set(skus)) != len(skus):
                errors.setdefault("variations", []).append("two variations have the same sku")
            for v in variations:
                if not (0 < v["price"] <= MAX_PRICE):
                    errors.setdefault("variations", []).append(
                        f"variation {v['sku']}: price must be more than 0 and at most {MAX_PRICE}")
        if data.get("state") == "active" and not data.get("images"):
            errors.setdefault("images", []).append("an active listing needs at least one image (or send state \"draft\")")
        if errors:
            raise ValidationError(errors)


class StockChangedSchema(_Data):
    shop_id = ShopId(required=True)
    sku = fields.String(required=True, validate=validate.Length(min=1, max=32))
    quantity = StrictInteger(required=True, validate=validate.Range(min=0, max=MAX_QUANTITY))


class OrdersPollTickSchema(_Data):
    shop_id = ShopId(load_default=None, allow_none=True)
    # Beyond the contract: "reconcile" asks for the slower window re-check.
    mode = fields.String(load_default="incremental", validate=validate.OneOf(["incremental", "reconcile"]))


def _tracking(value: str) -> None:
    if value and not any(ch.isalnum() for ch in value):
        raise ValidationError("a tracking number needs letters or digits")


class OrderShippedSchema(_Data):
    """One parcel of an order. ``tracking_number`` may be null or "" for an
    untracked parcel: Etsy then marks the order shipped without tracking (and
    refuses where it requires tracking: US orders over $10, shipments to India).
    ``carrier`` is free text ("Royal Mail", "royalmail", "DHL Express"), mapped
    to Etsy's carrier names by etsyflow.fulfilment.carriers."""

    shop_id = ShopId(required=True)
    receipt_id = StrictInteger(required=True, validate=validate.Range(min=1))
    carrier = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    # Required as a key (a forgotten field is an upstream bug); null or "" is a deliberate
    # untracked parcel.
    tracking_number = fields.String(required=True, allow_none=True, validate=[validate.Length(max=100), _tracking],
                                    error_messages={"required": "give the tracking number, or null for a parcel "
                                                                "sent without tracking"})
    shipped_at = fields.String(load_default=None, allow_none=True, validate=_rfc3339)
    note_to_buyer = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    # Beyond the contract: a parcel reference that tells parcels of one order apart.
    parcel_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))

    @validates_schema
    def _carrier_with_tracking(self, data, **kwargs):
        tracking = (data.get("tracking_number") or "").strip()
        if tracking and not (data.get("carrier") or "").strip():
            raise ValidationError("give the carrier of the tracking number (any spelling; "
                                  "\"other\" when unknown)", "carrier")


# The contract table names each inbound type's schema class; resolved here, checked at import.
INBOUND_SCHEMAS: dict[str, type[Schema]] = {event_type: globals()[entry.schema] for event_type, entry in CONTRACT.items()}

_instances: dict[str, Schema] = {}


def schema_for(event_type: str) -> Schema | None:
    """The (cached) data schema of an inbound type, or None for unknown types."""
    cls = INBOUND_SCHEMAS.get(event_type)
    if cls is None:
        return None
    if event_type not in _instances:
        _instances[event_type] = cls()
    return _instances[event_type]
