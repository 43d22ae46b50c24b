"""Upstream products ↔ Etsy listings: the field mapping, and nothing else.

``ListingReady`` data (validated by ``schemas.events``: money is Decimal)
goes in; Etsy request fields come out, plus the follow-up events' data.
The planning (what to write, in which order) is in ``etsyflow.catalogue``.

Names resolved here:

* item specifics ``{name, value}`` → ``(property_id, value_ids, values,
  scale_id)`` through the category's properties
  (``getPropertiesByTaxonomyId``);
* variation options ``{name: value}`` → inventory ``property_values``: the
  category's property where it has one supporting variations with that
  name, Etsy's custom properties 513/514 otherwise.

A name or value that cannot be resolved raises :class:`Unmappable` with a
reason a merchandiser can act on.
"""

from __future__ import annotations

from decimal import Decimal

from ..etsy.money import format_decimal, money_to_decimal
from ..messages.contract import CONTRACT, rejection_data
from ..messages.outcomes import Refused
from ..messages.types import EventType

#: Etsy's custom variation properties (any category).
CUSTOM_PROPERTY_IDS = (513, 514)
LISTING_URL = "https://www.etsy.com/listing/{listing_id}"
#: Etsy refuses these characters in inventory property values.
_FORBIDDEN_IN_VALUES = "()"


class Unmappable(Refused):
    """Upstream data that has no Etsy equivalent (the event is refused); ``reason`` is for a merchandiser."""


# -- listing fields ----------------------------------------------------------------

def total_quantity(data: dict) -> int:
    """Stock of the whole listing: the variations' sum, or the listing quantity."""
    if data.get("variations"):
        return sum(v["quantity"] for v in data["variations"])
    return data["quantity"]


def lowest_price(data: dict) -> Decimal:
    """The listing price Etsy shows: the lowest offering price."""
    if data.get("variations"):
        return min(v["price"] for v in data["variations"])
    return data["price"]


def listing_fields(data: dict, *, shipping_profile_id: int, return_policy_id: int | None) -> dict:
    """The fields etsyflow keeps in step with ``updateListing`` (no price/quantity: those live
    in the inventory; no state: that is the last step)."""
    fields = {
        "title": data["title"],
        "description": data["description"],
        "taxonomy_id": data["taxonomy_id"],
        "who_made": data["who_made"],
        "when_made": data["when_made"],
        "is_supply": False,
        "tags": list(data.get("tags") or []),
        "materials": list(data.get("materials") or []),
        "shipping_profile_id": int(shipping_profile_id),
    }
    if return_policy_id is not None:
        fields["return_policy_id"] = int(return_policy_id)
    return fields


def create_form(data: dict, fields: dict, *, readiness_state_id: int | None) -> dict:
    """``createDraftListing`` fields: the kept fields plus price, quantity and processing profile."""
    form = {
        **fields,
        "quantity": total_quantity(data),
        "price": lowest_price(data),
        "type": "physical",
    }
    if readiness_state_id is not None:
        form["readiness_state_id"] = int(readiness_state_id)
    # Etsy drops an empty list anyway; omit it so the form stays clean.
    for key in ("tags", "materials"):
        if not form[key]:
            del form[key]
    return form


def matches_created(listing: dict, form: dict) -> bool:
    """Is this Etsy ``ShopListing`` what ``createDraftListing(form)`` made? (crash recovery)"""
    if listing.get("title") != form["title"] or listing.get("description") != form["description"]:
        return False
    if int(listing.get("taxonomy_id") or 0) != int(form["taxonomy_id"]):
        return False
    if listing.get("shipping_profile_id") is not None and \
            int(listing["shipping_profile_id"]) != int(form["shipping_profile_id"]):
        return False
    return int(listing.get("quantity") or 0) == int(form["quantity"])


def listing_url(listing_id: int) -> str:
    return LISTING_URL.format(listing_id=int(listing_id))


def published_data(data: dict, *, listing_id: int, state: str, created: bool, changed: list[str],
                   etsy_url: str | None = None) -> dict:
    """``ListingPublished`` data. ``rrp`` has no Etsy field: it is carried here, unchanged."""
    out = {
        "shop_id": data["shop_id"],
        "product_id": data["product_id"],
        "listing_id": int(listing_id),
        "state": state,
        "url": listing_url(listing_id),
        "price": format_decimal(lowest_price(data)),
        "currency": data["currency"],
        "rrp": format_decimal(data["rrp"]) if data.get("rrp") is not None else None,
        "created": created,
        "changed": changed,
    }
    if data.get("sku"):
        out["sku"] = data["sku"]
    return out


def rejected_data(data: dict, reason: str) -> dict:
    """``ListingRejected`` data (``rrp`` carried when the event had one); the contract's rule."""
    return rejection_data(CONTRACT[EventType.LISTING_READY], EventType.LISTING_READY, None, data, reason)


# -- taxonomy names ----------------------------------------------------------------

def _norm(name: str) -> str:
    text = " ".join(str(name).lower().replace("colour", "color").split())
    return text


def _names(prop: dict) -> set[str]:
    names = {_norm(prop.get("name") or ""), _norm(prop.get("display_name") or "")}
    for n in list(names):
        for prefix in ("primary ", "main "):
            if n.startswith(prefix):
                names.add(n[len(prefix):])
    names.discard("")
    return names


def find_property(properties: list[dict], name: str, *, for_variations: bool) -> dict | None:
    """The category property called ``name`` (case-insensitive; "Color" finds "Primary color")."""
    wanted = _norm(name)
    flag = "supports_variations" if for_variations else "supports_attributes"
    for prop in properties:
        if prop["property_id"] in CUSTOM_PROPERTY_IDS:
            continue
        if wanted in _names(prop) and prop.get(flag, True):
            return prop
    return None


def _find_value(prop: dict, value: str) -> dict | None:
    wanted = _norm(value)
    for candidate in prop.get("possible_values") or []:
        if _norm(candidate["name"]) == wanted:
            return candidate
    return None


def _allowed(prop: dict, limit: int = 12) -> str:
    names = [v["name"] for v in prop.get("possible_values") or []]
    shown = ", ".join(names[:limit])
    return shown + (f" … ({len(names)} in all)" if len(names) > limit else "")


def resolve_specifics(specifics: list[dict], properties: list[dict], taxonomy_id: int) -> dict[int, dict]:
    """Item specifics → ``{property_id: {value_ids, values, scale_id}}`` for ``updateListingProperty``.

    Several specifics with the same name become one multi-valued property.
    """
    resolved: dict[int, dict] = {}
    names_by_id: dict[int, str] = {}
    for spec in specifics:
        prop = find_property(properties, spec["name"], for_variations=False)
        if prop is None:
            known = sorted({p["name"] for p in properties if p.get("supports_attributes", True)
                            and p["property_id"] not in CUSTOM_PROPERTY_IDS})
            raise Unmappable(f"category {taxonomy_id} has no item specific named {spec['name']!r}"
                             + (f" (it has: {', '.join(known)})" if known else " (it has none)"))
        entry = resolved.setdefault(prop["property_id"], {"value_ids": [], "values": [], "scale_id": None})
        names_by_id[prop["property_id"]] = spec["name"]
        if prop.get("possible_values"):
            value = _find_value(prop, spec["value"])
            if value is None:
                raise Unmappable(f"{spec['value']!r} is not a value Etsy offers for {prop['name']!r} in category "
                                 f"{taxonomy_id}; choose one of: {_allowed(prop)}")
            if value["value_id"] not in entry["value_ids"]:
                entry["value_ids"].append(int(value["value_id"]))
                entry["values"].append(value["name"])
            if value.get("scale_id"):
                entry["scale_id"] = int(value["scale_id"])
        else:
            if spec["value"] not in entry["values"]:
                entry["values"].append(spec["value"])
    for pid, entry in resolved.items():
        prop = next(p for p in properties if p["property_id"] == pid)
        count = len(entry["values"])
        if count > 1 and not prop.get("is_multivalued"):
            raise Unmappable(f"item specific {names_by_id[pid]!r} takes one value in category {taxonomy_id}; "
                             f"got {count}: {', '.join(entry['values'])}")
        limit = prop.get("max_values_allowed")
        if limit and count > limit:
            raise Unmappable(f"item specific {names_by_id[pid]!r} takes at most {limit} values; got {count}")
    return resolved


# -- variations → inventory --------------------------------------------------------

def option_names(variations: list[dict]) -> list[str]:
    """Variation option names in the upstream's order (the first variation's)."""
    return list(variations[0]["options"].keys()) if variations else []


def _option_property(name: str, index: int, properties: list[dict], values: list[str],
                     taxonomy_id: int) -> dict:
    """How one option is sent: ``{property_id, property_name, values: {value: (ids, scale)}}``."""
    prop = find_property(properties, name, for_variations=True)
    for value in values:
        bad = [c for c in _FORBIDDEN_IN_VALUES if c in value]
        if bad:
            raise Unmappable(f"variation value {value!r} of {name!r}: Etsy does not allow parentheses "
                             "in variation values")
    if prop is None:
        pid = CUSTOM_PROPERTY_IDS[index]
        return {"property_id": pid, "property_name": name,
                "values": {v: ([], None) for v in values}}
    mapped = {}
    scales = set()
    for value in values:
        if prop.get("possible_values"):
            found = _find_value(prop, value)
            if found is None:
                raise Unmappable(f"variation {name!r} = {value!r}: category {taxonomy_id} has no such value for "
                                 f"{prop['name']!r}; choose one of: {_allowed(prop)}")
            scale = found.get("scale_id")
            mapped[value] = ([int(found["value_id"])], int(scale) if scale else None)
            scales.add(scale)
        else:
            mapped[value] = ([], None)
    if len(scales - {None}) > 1:
        raise Unmappable(f"variation {name!r} mixes sizes of different scales ({', '.join(sorted(mapped))}); "
                         "use values of one scale only")
    return {"property_id": int(prop["property_id"]), "property_name": prop["name"], "values": mapped,
            "canonical": {v: (_find_value(prop, v) or {}).get("name", v) for v in values}}


def offering(price: Decimal, quantity: int, readiness_state_id: int | None) -> dict:
    """One offering as etsyflow keeps it (price as a decimal string; the client sends a float).

    A quantity of 0 is kept as a disabled offering: Etsy shows that
    combination as sold out and refuses an enabled offering with nothing in stock.
    """
    return {"price": format_decimal(Decimal(price)), "quantity": int(quantity), "is_enabled": quantity > 0,
            "readiness_state_id": int(readiness_state_id) if readiness_state_id else None}


def inventory_products(data: dict, properties: list[dict], *, readiness_state_id: int | None) -> tuple[list, list]:
    """Products of the inventory matrix and the property ids in ``property_values`` order.

    A listing without variations has one product (its SKU, its price and quantity).
    """
    variations = data.get("variations") or []
    if not variations:
        product = {"sku": data.get("sku") or "", "property_values": [],
                   "offerings": [offering(data["price"], data["quantity"], readiness_state_id)]}
        return [product], []
    names = option_names(variations)
    options = []
    for index, name in enumerate(names):
        values = []
        for variation in variations:
            value = variation["options"][name]
            if value not in values:
                values.append(value)
        options.append(_option_property(name, index, properties, values, data["taxonomy_id"]))
    ids = [o["property_id"] for o in options]
    if len(set(ids)) != len(ids):
        raise Unmappable(f"variation options {', '.join(map(repr, names))} map to the same Etsy property")
    products = []
    for variation in variations:
        property_values = []
        for name, option in zip(names, options):
            value = variation["options"][name]
            value_ids, scale_id = option["values"][value]
            shown = option.get("canonical", {}).get(value, value)
            property_values.append({"property_id": option["property_id"], "property_name": option["property_name"],
                                    "scale_id": scale_id, "value_ids": list(value_ids), "values": [shown]})
        products.append({"sku": variation["sku"], "property_values": property_values,
                         "offerings": [offering(variation["price"], variation["quantity"], readiness_state_id)]})
    return products, ids


def inventory_from_etsy(inventory: dict) -> dict:
    """A ``getListingInventory`` answer → etsyflow's inventory shape (deleted parts dropped,
    prices as decimal strings, read-only fields gone)."""

    products = []
    for product in inventory.get("products") or []:
        if product.get("is_deleted"):
            continue
        offerings = []
        for o in product.get("offerings") or []:
            if o.get("is_deleted"):
                continue
            price = o.get("price")
            price = money_to_decimal(price) if isinstance(price, dict) else Decimal(str(price))
            offerings.append({"price": format_decimal(price), "quantity": int(o.get("quantity") or 0),
                              "is_enabled": bool(o.get("is_enabled", True)),
                              "readiness_state_id": o.get("readiness_state_id")})
        property_values = [{"property_id": int(pv["property_id"]), "property_name": pv.get("property_name"),
                            "scale_id": pv.get("scale_id"), "value_ids": [int(v) for v in pv.get("value_ids") or []],
                            "values": list(pv.get("values") or [])}
                           for pv in product.get("property_values") or []]
        products.append({"sku": product.get("sku") or "", "property_values": property_values,
                         "offerings": offerings})
    out = {"products": products}
    for key in ("price_on_property", "quantity_on_property", "sku_on_property"):
        out[key] = [int(v) for v in inventory.get(key) or []]
    return out


def stock_data(shop_id: int, sku: str, quantity: int, *, listing_id: int, product_id: str | None,
               state: str, changed: bool) -> dict:
    """``StockUpdated`` data."""
    return {"shop_id": shop_id, "sku": sku, "quantity": quantity, "listing_id": int(listing_id),
            "product_id": product_id, "state": state, "changed": changed}


def stock_rejected_data(data: dict, reason: str) -> dict:
    return rejection_data(CONTRACT[EventType.STOCK_CHANGED], EventType.STOCK_CHANGED, None, data, reason)


# -- reading Etsy's ShopListing and ListingImage ---------------------------------------

def listing_id(listing: dict) -> int:
    return int(listing["listing_id"])


def created_at(listing: dict) -> float:
    """When Etsy created the listing (epoch seconds; 0 when the answer does not say)."""
    return listing.get("created_timestamp") or listing.get("creation_timestamp") or 0


def image_id(image: dict) -> int:
    return int(image["listing_image_id"])


def image_rank(image: dict) -> int:
    return image.get("rank") or 0
