"""Link records: what etsyflow knows it made on Etsy, and how it looked when last written.

Fingerprints are SHA-256 of canonical JSON (sorted keys; Decimals as
strings): equal content, equal fingerprint, whatever the dict order.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal

from . import keys

CREATING = "creating"
LINKED = "linked"


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_default, ensure_ascii=False)


def fingerprint(value) -> str:
    """A stable hash of any JSON-like value (hex, 32 characters)."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()[:32]


def _s(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def load_json(raw, default):
    """JSON stored in Redis (bytes or str); ``default`` when empty."""
    raw = _s(raw)
    return json.loads(raw) if raw else default


# -- delivery templates ----------------------------------------------------------------

@dataclass
class TemplateLink:
    shop_id: int
    template_id: str
    status: str | None = None
    shipping_profile_id: int | None = None
    readiness_state_id: int | None = None
    destinations: dict[str, int] = field(default_factory=dict)
    fingerprint: str | None = None
    intent_at: float | None = None

    @property
    def linked(self) -> bool:
        return self.status == LINKED and self.shipping_profile_id is not None


def load_template(redis, shop_id: int, template_id: str) -> TemplateLink:
    raw = {_s(k): v for k, v in (redis.hgetall(keys.template(shop_id, template_id)) or {}).items()}
    link = TemplateLink(shop_id, template_id)
    if not raw:
        return link
    link.status = _s(raw.get("status"))
    link.shipping_profile_id = int(raw["shipping_profile_id"]) if raw.get("shipping_profile_id") else None
    link.readiness_state_id = int(raw["readiness_state_id"]) if raw.get("readiness_state_id") else None
    link.destinations = load_json(raw.get("destinations"), {})
    link.fingerprint = _s(raw.get("fingerprint"))
    link.intent_at = float(raw["intent_at"]) if raw.get("intent_at") else None
    return link


def save_template(redis, link: TemplateLink) -> None:
    mapping = {"status": link.status or "", "destinations": json.dumps(link.destinations),
               "fingerprint": link.fingerprint or "", "intent_at": link.intent_at or "",
               "shipping_profile_id": link.shipping_profile_id or "",
               "readiness_state_id": link.readiness_state_id or "", "updated_at": time.time()}
    redis.hset(keys.template(link.shop_id, link.template_id), mapping=mapping)


# -- listings --------------------------------------------------------------------------

@dataclass
class ListingLink:
    """One product's listing. ``inventory`` is the matrix Etsy holds as far as we know."""

    shop_id: int
    product_id: str
    status: str | None = None
    listing_id: int | None = None
    state: str | None = None
    desired_state: str | None = None
    template_id: str | None = None
    readiness_state_id: int | None = None
    fp_fields: str | None = None
    fields: dict = field(default_factory=dict)
    images: list[dict] = field(default_factory=list)
    image_intent: str | None = None
    inventory: dict | None = None
    properties: dict[str, dict] = field(default_factory=dict)
    held: dict | None = None  # the matrix Etsy cannot take yet (nothing in stock)
    stock_inactive: bool = False
    create_fp: str | None = None
    intent_at: float | None = None

    @property
    def linked(self) -> bool:
        return self.status == LINKED and self.listing_id is not None

    @property
    def creating(self) -> bool:
        return self.status == CREATING


def load_listing(redis, shop_id: int, product_id: str) -> ListingLink:
    raw = {_s(k): v for k, v in (redis.hgetall(keys.listing(shop_id, product_id)) or {}).items()}
    link = ListingLink(shop_id, product_id)
    if not raw:
        return link
    link.status = _s(raw.get("status")) or None
    link.listing_id = int(raw["listing_id"]) if raw.get("listing_id") else None
    link.state = _s(raw.get("state")) or None
    link.desired_state = _s(raw.get("desired_state")) or None
    link.template_id = _s(raw.get("template_id")) or None
    link.readiness_state_id = int(raw["readiness_state_id"]) if raw.get("readiness_state_id") else None
    link.fp_fields = _s(raw.get("fp_fields")) or None
    link.fields = load_json(raw.get("fields"), {})
    link.images = load_json(raw.get("images"), [])
    link.image_intent = _s(raw.get("image_intent")) or None
    link.inventory = load_json(raw.get("inventory"), None)
    link.properties = load_json(raw.get("properties"), {})
    link.held = load_json(raw.get("held"), None)
    link.stock_inactive = _s(raw.get("stock_inactive")) == "1"
    link.create_fp = _s(raw.get("create_fp")) or None
    link.intent_at = float(raw["intent_at"]) if raw.get("intent_at") else None
    return link


_LISTING_FIELDS = {
    "status": lambda l: l.status or "",
    "listing_id": lambda l: l.listing_id or "",
    "state": lambda l: l.state or "",
    "desired_state": lambda l: l.desired_state or "",
    "template_id": lambda l: l.template_id or "",
    "readiness_state_id": lambda l: l.readiness_state_id or "",
    "fp_fields": lambda l: l.fp_fields or "",
    "fields": lambda l: canonical(l.fields),
    "images": lambda l: json.dumps(l.images),
    "image_intent": lambda l: l.image_intent or "",
    "inventory": lambda l: canonical(l.inventory) if l.inventory is not None else "",
    "properties": lambda l: canonical(l.properties),
    "held": lambda l: canonical(l.held) if l.held is not None else "",
    "stock_inactive": lambda l: "1" if l.stock_inactive else "0",
    "create_fp": lambda l: l.create_fp or "",
    "intent_at": lambda l: l.intent_at or "",
}


def save_listing(redis, link: ListingLink, *only: str) -> None:
    """Write the record (or only the named parts) in one HSET."""
    names = only or tuple(_LISTING_FIELDS)
    mapping = {name: _LISTING_FIELDS[name](link) for name in names}
    mapping["updated_at"] = now = time.time()
    pipe = redis.pipeline(transaction=False)
    pipe.hset(keys.listing(link.shop_id, link.product_id), mapping=mapping)
    pipe.set(keys.listing_written(link.shop_id), repr(now))
    pipe.execute()


def last_listing_sync(redis, shop_id: int) -> float | None:
    """When etsyflow last wrote a listing record of ``shop_id`` (epoch seconds), or None."""
    raw = _s(redis.get(keys.listing_written(shop_id)))
    return float(raw) if raw else None


def claim_listing(redis, shop_id: int, listing_id: int, product_id: str) -> bool:
    """Make ``product_id`` the owner of ``listing_id``; False when another product owns it."""
    key = keys.listing_owner(shop_id, listing_id)
    if redis.set(key, product_id, nx=True):
        return True
    return _s(redis.get(key)) == product_id


def listing_owner(redis, shop_id: int, listing_id: int) -> str | None:
    return _s(redis.get(keys.listing_owner(shop_id, listing_id)))


# -- the SKU index ----------------------------------------------------------------------

def index_skus(redis, shop_id: int, listing_id: int, product_id: str | None, new: list[str], old: list[str]) -> None:
    """Point ``new`` SKUs at the listing; drop ``old`` ones that no longer belong to it."""
    key = keys.sku_index(shop_id)
    value = json.dumps({"listing_id": int(listing_id), "product_id": product_id})
    pipe = redis.pipeline()
    for sku in set(old) - set(new):
        entry = find_sku(redis, shop_id, sku)
        if entry and entry.get("listing_id") == int(listing_id):  # not if it moved to another listing
            pipe.hdel(key, sku)
    if new:
        pipe.hset(key, mapping={sku: value for sku in new})
    pipe.execute()


def find_sku(redis, shop_id: int, sku: str) -> dict | None:
    raw = redis.hget(keys.sku_index(shop_id), sku)
    return load_json(raw, None)
