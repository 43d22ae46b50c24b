"""Listings: draft creation, reads, updates and activation, images, inventory and
item specifics (properties), with the limits Etsy enforces."""

from __future__ import annotations

import time
import unicodedata
from decimal import Decimal

from . import render, taxonomy
from .errors import bad_request, conflict, not_found
from .forms import to_cents
from .images import sniff

WHO_MADE = ("i_did", "someone_else", "collective")
WHEN_MADE = ("made_to_order", "2020_2026", "2010_2019", "2007_2009", "before_2007", "2000_2006", "1990s",
             "1980s", "1970s", "1960s", "1950s", "1940s", "1930s", "1920s", "1910s", "1900s", "1800s",
             "1700s", "before_1700")
WEIGHT_UNITS = ("oz", "lb", "g", "kg")
DIMENSION_UNITS = ("in", "ft", "mm", "cm", "m", "yd", "inches")
LISTING_TYPES = ("physical", "download", "both")
MIN_PRICE, MAX_PRICE = Decimal("0.20"), Decimal("50000.00")
MAX_TITLE, MAX_TAGS, MAX_TAG, MAX_MATERIALS, MAX_MATERIAL, MAX_STYLES = 140, 13, 20, 13, 45, 2
MAX_IMAGES, MAX_ALT_TEXT, MAX_SKU, MAX_QUANTITY = 10, 500, 32, 999
EU = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
      "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
INCLUDES = ("Shipping", "Images", "Shop", "User", "Translations", "Inventory", "Videos", "Personalization",
            "BuyerPrice")
LISTING_INCLUDES = ("Images", "Shop", "User", "Translations", "Videos", "Personalization", "BuyerPrice")


def now() -> int:
    return int(time.time())


# -- field rules -----------------------------------------------------------------

def _check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise bad_request("title cannot be empty")
    if len(title) > MAX_TITLE:
        raise bad_request(f"title must be at most {MAX_TITLE} characters (got {len(title)})")
    for char in title:
        cat = unicodedata.category(char)
        if not (cat[0] in "LP" or cat in ("Nd", "Sm", "Zs") or char in "™©®"):
            raise bad_request(f"title contains a character Etsy does not allow: {char!r}")
    for char in "%:&":
        if title.count(char) > 1:
            raise bad_request(f"title may contain the character {char!r} only once")
    return title


def _check_words(values, name, max_count, max_length, extra=""):
    if values is None:
        return None
    if len(values) > max_count:
        raise bad_request(f"{name} can have at most {max_count} entries (got {len(values)})")
    for value in values:
        if len(value) > max_length:
            raise bad_request(f"each of {name} must be at most {max_length} characters ({value!r})")
        for char in value:
            if not (char.isalnum() or char.isspace() or char in extra):
                raise bad_request(f"{name} entry {value!r} contains a character Etsy does not allow: {char!r}")
    return values


def _price(params, name="price", required=False):
    value = params.decimal(name, required=required)
    if value is None:
        return None
    if not MIN_PRICE <= value <= MAX_PRICE:
        raise bad_request(f"{name} must be between {MIN_PRICE} and {MAX_PRICE} (got {value})")
    return to_cents(value)


def _shop_profile(state, shop, profile_id):
    profile = state.shipping_profiles.get(profile_id)
    if profile is None or profile["shop_id"] != shop["shop_id"] or profile["is_deleted"]:
        raise bad_request(f"shipping_profile_id {profile_id} is not a shipping profile of shop {shop['shop_id']}")


def _shop_readiness(state, shop, rid):
    record = state.readiness.get(rid)
    if record is None or record["shop_id"] != shop["shop_id"]:
        raise bad_request(f"readiness_state_id {rid} is not a processing profile of shop {shop['shop_id']}")


def _shop_policy(state, shop, pid):
    policy = state.return_policies.get(pid)
    if policy is None or policy["shop_id"] != shop["shop_id"]:
        raise bad_request(f"return_policy_id {pid} is not a return policy of shop {shop['shop_id']}")


def _common_fields(params, listing: dict):
    """Fields createDraftListing and updateListing share; writes given ones into ``listing``."""
    title = params.str("title")
    if title is not None:
        listing["title"] = _check_title(title)
    for name, max_count, max_len, extra in (("tags", MAX_TAGS, MAX_TAG, "-'™©®"),
                                            ("materials", MAX_MATERIALS, MAX_MATERIAL, "")):
        values = _check_words(params.list(name), name, max_count, max_len, extra)
        if values is not None:
            listing[name] = values
    styles = params.list("styles")
    if styles is not None:
        listing["styles"] = _check_words(styles, "styles", MAX_STYLES, 45)
    for name in ("who_made",):
        value = params.enum(name, WHO_MADE)
        if value:
            listing[name] = value
    value = params.enum("when_made", WHEN_MADE)
    if value:
        listing["when_made"] = value
    taxonomy_id = params.int("taxonomy_id", minimum=1)
    if taxonomy_id is not None:
        if not taxonomy.exists(taxonomy_id):
            raise bad_request(f"taxonomy_id {taxonomy_id} is not a seller taxonomy node")
        listing["taxonomy_id"] = taxonomy_id
    for name in ("item_weight", "item_length", "item_width", "item_height"):
        if params.has(name):
            number = params.decimal(name, minimum=0, nullable=True)
            listing[name] = float(number) if number is not None else None
    unit = params.enum("item_weight_unit", ("",) + WEIGHT_UNITS)
    if unit is not None:
        listing["item_weight_unit"] = unit or None
    unit = params.enum("item_dimensions_unit", ("",) + DIMENSION_UNITS)
    if unit is not None:
        listing["item_dimensions_unit"] = unit or None
    for name in ("is_supply", "is_taxable", "should_auto_renew", "is_customizable", "is_personalizable"):
        flag = params.bool(name)
        if flag is not None:
            listing[name] = flag
    kind = params.enum("type", LISTING_TYPES)
    if kind:
        listing["listing_type"] = kind
    section = params.int("shop_section_id", minimum=1, nullable=True)
    if section is not None:
        listing["shop_section_id"] = section
    description = params.str("description")
    if description is not None:
        if not description.strip():
            raise bad_request("description cannot be empty")
        listing["description"] = description


def _default_inventory(state, price: int, quantity: int, readiness_id):
    return {"products": [{"product_id": state.next_id("product"), "sku": "", "is_deleted": False,
                          "offerings": [{"offering_id": state.next_id("offering"), "price": price,
                                         "quantity": quantity, "is_enabled": True, "is_deleted": False,
                                         "readiness_state_id": readiness_id}],
                          "property_values": []}],
            "price_on_property": [], "quantity_on_property": [], "sku_on_property": [],
            "readiness_state_on_property": []}


def sync_from_inventory(listing: dict) -> None:
    """Listing quantity and price follow its inventory, as on Etsy."""
    offers = [o for p in listing["inventory"]["products"] if not p.get("is_deleted")
              for o in p["offerings"] if o["is_enabled"] and not o.get("is_deleted")]
    listing["quantity"] = sum(o["quantity"] for o in offers)
    prices = [o["price"] for o in offers]
    if prices:
        listing["price"] = min(prices)
    if listing["state"] == "active" and listing["quantity"] == 0:
        listing["state"], listing["state_timestamp"] = "sold_out", now()
    elif listing["state"] == "sold_out" and listing["quantity"] > 0:
        listing["state"], listing["state_timestamp"] = "active", now()


def seed(state, shop_id: int, row: dict) -> int:
    """A listing the seller made on Etsy.com, in any state (admin seeding; the caller holds the lock).

    ``row``: ``title``, ``state``, ``price`` (decimal string), ``quantity``,
    ``sku`` or ``variations`` [{sku, options {name: value}, price, quantity}]
    (options become the custom properties 513 and 514), ``readiness_state_id``
    (default: the shop's first processing profile, if it has one), ``taxonomy_id``.
    """
    shop = state.shops[shop_id]
    # Listings made on Etsy.com carry a processing profile: the one given, else the shop's first.
    readiness = row.get("readiness_state_id") or next(
        (rid for rid, r in state.readiness.items() if r["shop_id"] == shop_id), None)
    listing_id, stamp = state.next_id("listing"), now()
    listing = {"title": row["title"], "description": row.get("description") or row["title"], "tags": [],
               "materials": [], "styles": [], "who_made": "i_did", "when_made": "made_to_order",
               "taxonomy_id": int(row.get("taxonomy_id") or 1), "item_weight": None, "item_length": None,
               "item_width": None, "item_height": None, "item_weight_unit": None, "item_dimensions_unit": None,
               "is_supply": False, "is_taxable": True, "should_auto_renew": False, "is_customizable": False,
               "is_personalizable": False, "listing_type": "physical", "shop_section_id": None,
               "listing_id": listing_id, "shop_id": shop_id, "user_id": shop["user_id"],
               "state": row.get("state") or "active", "created": stamp, "updated": stamp, "state_timestamp": stamp,
               "featured_rank": -1, "shipping_profile_id": None, "return_policy_id": None,
               "readiness_state_id": readiness, "processing_min": None, "processing_max": None, "image_ids": [],
               "properties": {}, "frozen": False}
    if listing["state"] not in ("active", "inactive", "sold_out", "draft", "expired"):
        raise ValueError(f"state {listing['state']!r}")
    variations = row.get("variations") or []
    if variations:
        names = list(variations[0]["options"])
        products = [{"product_id": state.next_id("product"), "sku": v["sku"], "is_deleted": False,
                     "offerings": [{"offering_id": state.next_id("offering"), "price": to_cents(Decimal(v["price"])),
                                    "quantity": int(v["quantity"]), "is_enabled": int(v["quantity"]) > 0,
                                    "is_deleted": False, "readiness_state_id": readiness}],
                     "property_values": [{"property_id": 513 + i, "property_name": name, "scale_id": None,
                                          "value_ids": [state.next_id("value")], "values": [v["options"][name]]}
                                         for i, name in enumerate(names)]} for v in variations]
        ids = [513 + i for i in range(len(names))]
        listing["inventory"] = {"products": products, "price_on_property": ids, "quantity_on_property": ids,
                                "sku_on_property": ids, "readiness_state_on_property": []}
    else:
        listing["inventory"] = _default_inventory(state, to_cents(Decimal(row["price"])), int(row["quantity"]),
                                                  readiness)
        listing["inventory"]["products"][0]["sku"] = row.get("sku") or ""
    listing["price"], listing["quantity"] = 0, 0
    keep = listing["state"]
    sync_from_inventory(listing)
    listing["state"] = keep  # seeded as asked (e.g. sold_out with stock 0, expired)
    state.listings[listing_id] = listing
    return listing_id


def _needs_return_policy(ctx, shop, listing):
    return (ctx.config.require_return_policy and listing["listing_type"] != "download"
            and shop["country_iso"] not in EU)


def createDraftListing(ctx):
    params = ctx.form()
    quantity = params.int("quantity", required=True)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise bad_request(f"quantity must be between 1 and {MAX_QUANTITY} (got {quantity})")
    for name in ("title", "description"):
        params.str(name, required=True)
    price = _price(params, required=True)
    params.enum("who_made", WHO_MADE, required=True)
    params.enum("when_made", WHEN_MADE, required=True)
    params.int("taxonomy_id", required=True, minimum=1)
    image_ids = params.int_list("image_ids")
    if image_ids is not None and not image_ids:
        raise bad_request("image_ids cannot be an empty list; leave it out instead")
    shipping_profile_id = params.int("shipping_profile_id", minimum=1, nullable=True)
    readiness_id = params.int("readiness_state_id", minimum=1, nullable=True)
    return_policy_id = params.int("return_policy_id", minimum=1, nullable=True)
    processing_min = params.int("processing_min", minimum=0, nullable=True)
    processing_max = params.int("processing_max", minimum=0, nullable=True)
    listing = {"title": "", "description": "", "tags": [], "materials": [], "styles": [], "who_made": None,
               "when_made": None, "taxonomy_id": None, "item_weight": None, "item_length": None,
               "item_width": None, "item_height": None, "item_weight_unit": None, "item_dimensions_unit": None,
               "is_supply": False, "is_taxable": True, "should_auto_renew": False, "is_customizable": False,
               "is_personalizable": False, "listing_type": "physical", "shop_section_id": None}
    _common_fields(params, listing)
    with ctx.state.lock:
        shop = ctx.shop()
        state = ctx.state
        if listing["listing_type"] != "download":
            if shipping_profile_id is None:
                raise bad_request("shipping_profile_id is required for physical listings")
            if readiness_id is None:
                raise bad_request("readiness_state_id is required for physical listings "
                                  "(create a processing profile with createShopReadinessStateDefinition)")
        if shipping_profile_id is not None:
            _shop_profile(state, shop, shipping_profile_id)
        if readiness_id is not None:
            _shop_readiness(state, shop, readiness_id)
        if return_policy_id is not None:
            _shop_policy(state, shop, return_policy_id)
        elif _needs_return_policy(ctx, shop, listing):
            raise bad_request(f"return_policy_id is required for physical listings of shops outside the EU "
                              f"(shop country {shop['country_iso']})")
        if image_ids:
            for image_id in image_ids:
                image = state.images.get(image_id)
                if image is None or image["shop_id"] != shop["shop_id"]:
                    raise bad_request(f"image_ids: {image_id} is not an image of this shop")
        listing_id = state.next_id("listing")
        stamp = now()
        listing.update({
            "listing_id": listing_id, "shop_id": shop["shop_id"], "user_id": shop["user_id"], "state": "draft",
            "created": stamp, "updated": stamp, "state_timestamp": stamp, "featured_rank": -1,
            "shipping_profile_id": shipping_profile_id, "return_policy_id": return_policy_id,
            "readiness_state_id": readiness_id, "processing_min": processing_min,
            "processing_max": processing_max, "image_ids": [], "properties": {}, "frozen": False,
            "price": price, "quantity": quantity,
        })
        listing["inventory"] = _default_inventory(state, price, quantity, readiness_id)
        state.listings[listing_id] = listing
        if image_ids:
            for image_id in image_ids:
                _attach(state, listing, state.images[image_id], len(listing["image_ids"]) + 1, False)
        return 201, render.listing(listing, state)


def _includes(ctx, allowed):
    values = ctx.query().list("includes") or []
    for value in values:
        if value not in allowed:
            raise bad_request(f"includes: {value!r} is not one of {', '.join(allowed)}")
    return values


def getListing(ctx):
    includes = _includes(ctx, LISTING_INCLUDES)
    with ctx.state.lock:
        listing = ctx.listing()
        return 200, render.listing_with(listing, ctx.state, includes, ctx.base_url)


def getListingsByShop(ctx):
    q = ctx.query()
    state_name = q.enum("state", ("active", "inactive", "sold_out", "draft", "expired"), default="active")
    limit = q.int("limit", minimum=1, maximum=100, default=25)
    offset = q.int("offset", minimum=0, default=0)
    sort_on = q.enum("sort_on", ("created", "price", "updated", "score"), default="created")
    order = q.enum("sort_order", ("asc", "ascending", "desc", "descending", "up", "down"), default="desc")
    includes = _includes(ctx, INCLUDES)
    key = {"created": "created", "price": "price", "updated": "updated", "score": "created"}[sort_on]
    with ctx.state.lock:
        shop = ctx.shop()
        rows = [l for l in ctx.state.listings.values() if l["shop_id"] == shop["shop_id"] and l["state"] == state_name]
        rows.sort(key=lambda l: (l[key], l["listing_id"]), reverse=order in ("desc", "descending", "down"))
        page = [render.listing_with(l, ctx.state, includes, ctx.base_url) for l in rows[offset:offset + limit]]
    return 200, {"count": len(rows), "results": page}


def updateListing(ctx):
    params = ctx.form()
    image_ids = params.int_list("image_ids")
    if image_ids is not None and not image_ids:
        raise bad_request("image_ids cannot be an empty list; leave it out to keep the images")
    target_state = params.enum("state", ("active", "inactive"))
    shipping_profile_id = params.int("shipping_profile_id", minimum=1, nullable=True)
    return_policy_id = params.int("return_policy_id", minimum=1, nullable=True)
    featured_rank = params.int("featured_rank", nullable=True)
    with ctx.state.lock:
        state = ctx.state
        shop = ctx.shop()
        listing = ctx.listing(of_shop=shop)
        draft = dict(listing)
        _common_fields(params, draft)
        if shipping_profile_id is not None:
            _shop_profile(state, shop, shipping_profile_id)
            draft["shipping_profile_id"] = shipping_profile_id
        if return_policy_id is not None:
            _shop_policy(state, shop, return_policy_id)
            draft["return_policy_id"] = return_policy_id
        if featured_rank is not None:
            draft["featured_rank"] = featured_rank
        if image_ids is not None:
            unknown = [i for i in image_ids if i not in listing["image_ids"]]
            if unknown:
                raise bad_request(f"image_ids: {unknown} are not images of listing {listing['listing_id']}")
            rest = [i for i in listing["image_ids"] if i not in image_ids]
            draft["image_ids"] = list(dict.fromkeys(image_ids)) + rest
        if target_state == "active" and listing["state"] != "active":
            _check_activation(ctx, shop, draft)
            draft["state"], draft["state_timestamp"] = "active", now()
        elif target_state == "inactive" and listing["state"] != "inactive":
            if listing["state"] == "draft":
                raise bad_request("A draft listing cannot be made inactive; activate it first")
            draft["state"], draft["state_timestamp"] = "inactive", now()
        draft["updated"] = now()
        listing.update(draft)
        _rerank(state, listing)
        if listing["state"] == "active" and listing["quantity"] == 0:
            sync_from_inventory(listing)
        return 200, render.listing(listing, state)


def _check_activation(ctx, shop, listing):
    state = ctx.state
    if listing.get("frozen"):
        raise conflict("This listing is being edited on Etsy or is frozen and cannot be activated now")
    if not listing["image_ids"]:
        raise bad_request("A listing needs at least one image before it can be activated")
    if listing["listing_type"] != "download":
        profile = state.shipping_profiles.get(listing["shipping_profile_id"])
        if profile is None or profile["is_deleted"] or profile["shop_id"] != shop["shop_id"]:
            raise bad_request("A physical listing needs a valid shipping_profile_id before it can be activated")
        if listing["readiness_state_id"] not in state.readiness:
            raise bad_request("A physical listing needs a processing profile (readiness_state_id) to be activated")
        if listing["return_policy_id"] is None and _needs_return_policy(ctx, shop, listing):
            raise bad_request("A physical listing needs a return_policy_id before it can be activated")
    if listing["quantity"] <= 0:
        raise bad_request("A listing needs a quantity greater than 0 to be activated")


def deleteListing(ctx):
    with ctx.state.lock:
        listing = ctx.listing()
        for image_id in listing["image_ids"]:
            ctx.state.images[image_id]["listing_id"] = None
        del ctx.state.listings[listing["listing_id"]]
    return 204, None


# -- images ------------------------------------------------------------------------

def _rerank(state, listing):
    for rank, image_id in enumerate(listing["image_ids"], start=1):
        state.images[image_id]["rank"] = rank


def _attach(state, listing, image, rank, overwrite):
    ids = listing["image_ids"]
    if image["listing_image_id"] in ids:
        ids.remove(image["listing_image_id"])
    position = max(0, min(rank - 1, len(ids)))
    if overwrite and position < len(ids):
        state.images[ids[position]]["listing_id"] = None
        ids[position] = image["listing_image_id"]
    else:
        if len(ids) >= MAX_IMAGES:
            raise bad_request(f"A listing can have at most {MAX_IMAGES} images")
        ids.insert(position, image["listing_image_id"])
    image["listing_id"] = listing["listing_id"]
    _rerank(state, listing)


def uploadListingImage(ctx):
    params = ctx.form()
    rank = params.int("rank", minimum=0, default=1) or 1
    overwrite = params.bool("overwrite", default=False)
    watermarked = params.bool("is_watermarked", default=False)
    alt_text = params.str("alt_text", default="")
    if len(alt_text) > MAX_ALT_TEXT:
        raise bad_request(f"alt_text must be at most {MAX_ALT_TEXT} characters (got {len(alt_text)})")
    existing_id = params.int("listing_image_id", minimum=1)
    upload = ctx.request.files.get("image")
    data = upload.read() if upload is not None else None
    if data is None and existing_id is None:
        if params.has("image"):
            raise bad_request("image must be sent as a file part (multipart/form-data), not as a text field")
        raise bad_request("Either image (a file) or listing_image_id is required")
    sniffed = None
    if data is not None:
        if not data:
            raise bad_request("image is empty")
        sniffed = sniff(data)
        if sniffed is None:
            raise bad_request("image is not a JPEG, PNG, GIF or WebP image")
    with ctx.state.lock:
        state = ctx.state
        shop = ctx.shop()
        listing = ctx.listing(of_shop=shop)
        if data is not None:
            ext, width, height = sniffed
            if not overwrite and len(listing["image_ids"]) >= MAX_IMAGES:
                raise bad_request(f"A listing can have at most {MAX_IMAGES} images")
            image = {"listing_image_id": state.next_id("image"), "listing_id": None, "shop_id": shop["shop_id"],
                     "created": now(), "rank": rank, "ext": ext, "width": width, "height": height,
                     "bytes": data, "alt_text": alt_text, "is_watermarked": watermarked}
            state.images[image["listing_image_id"]] = image
        else:
            image = state.images.get(existing_id)
            if image is None or image["shop_id"] != shop["shop_id"]:
                raise not_found(f"Listing image {existing_id} not found in shop {shop['shop_id']}")
            if alt_text:
                image["alt_text"] = alt_text
        _attach(state, listing, image, rank, overwrite)
        listing["updated"] = now()
        return 201, render.image(image, ctx.base_url)


def getListingImages(ctx):
    with ctx.state.lock:
        listing = ctx.listing()
        rows = [render.image(ctx.state.images[i], ctx.base_url) for i in listing["image_ids"]]
    return 200, {"count": len(rows), "results": rows}


def getListingImage(ctx):
    with ctx.state.lock:
        listing = ctx.listing()
        image_id = ctx.path_int("listing_image_id")
        if image_id not in listing["image_ids"]:
            raise not_found(f"Image {image_id} not found on listing {listing['listing_id']}")
        return 200, render.image(ctx.state.images[image_id], ctx.base_url)


def deleteListingImage(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        listing = ctx.listing(of_shop=shop)
        image_id = ctx.path_int("listing_image_id")
        if image_id not in listing["image_ids"]:
            raise not_found(f"Image {image_id} not found on listing {listing['listing_id']}")
        if listing["state"] == "active" and len(listing["image_ids"]) == 1:
            raise bad_request("An active listing must keep at least one image")
        listing["image_ids"].remove(image_id)
        ctx.state.images[image_id]["listing_id"] = None
        _rerank(ctx.state, listing)
        listing["updated"] = now()
    return 204, None


# -- inventory ------------------------------------------------------------------------

FORBIDDEN_PRODUCT = ("product_id", "is_deleted")
FORBIDDEN_OFFERING = ("offering_id", "is_deleted")
FORBIDDEN_VALUE = ("scale_name",)


def _custom_value_id(state, property_id, name):
    key = (property_id, name.strip().lower())
    ids = state.custom_value_ids
    if key not in ids:
        ids[key] = state.next_id("value")
    return ids[key]


def resolve_values(state, taxonomy_id, pv: dict, where: str, *, for_variation: bool) -> dict:
    """Check one ``property_values`` entry against the taxonomy; returns the stored form."""
    pid = pv.get("property_id")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid < 1:
        raise bad_request(f"{where}.property_id must be a positive integer")
    value_ids = pv.get("value_ids", [])
    values = pv.get("values", [])
    if not isinstance(value_ids, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value_ids):
        raise bad_request(f"{where}.value_ids must be a list of integers")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise bad_request(f"{where}.values must be a list of strings")
    scale_id = pv.get("scale_id")
    if pid in taxonomy.CUSTOM_PROPERTY_IDS:
        if len(values) != 1 or not values[0].strip():
            raise bad_request(f"{where}: custom property {pid} needs exactly one non-empty value")
        if len(values[0]) > 45:
            raise bad_request(f"{where}: custom value {values[0]!r} is longer than 45 characters")
        name = pv.get("property_name") or taxonomy.CUSTOM_PROPERTY_NAMES[pid]
        vid = value_ids[0] if value_ids else _custom_value_id(state, pid, values[0])
        return {"property_id": pid, "property_name": name, "scale_id": None, "scale_name": None,
                "value_ids": [vid], "values": [values[0].strip()]}
    prop = taxonomy.find_property(taxonomy_id, pid)
    if prop is None:
        raise bad_request(f"{where}: property_id {pid} is not a property of taxonomy node {taxonomy_id} "
                          "(use 513 or 514 for custom variations)")
    if for_variation and not prop["supports_variations"]:
        raise bad_request(f"{where}: property {prop['name']} ({pid}) does not support variations")
    if not for_variation and not prop["supports_attributes"]:
        raise bad_request(f"property {prop['name']} ({pid}) cannot be set as an item specific")
    if not values and not value_ids:
        raise bad_request(f"{where}: give at least one value")
    if not prop["is_multivalued"] and max(len(values), len(value_ids)) > 1:
        raise bad_request(f"{where}: property {prop['name']} ({pid}) takes a single value")
    if prop["max_values_allowed"] and max(len(values), len(value_ids)) > prop["max_values_allowed"]:
        raise bad_request(f"{where}: property {prop['name']} takes at most {prop['max_values_allowed']} values")
    scales = {s["scale_id"]: s for s in prop["scales"]}
    if scale_id is not None and scale_id not in scales:
        raise bad_request(f"{where}: scale_id {scale_id} is not a scale of property {prop['name']} ({pid})")
    possible = taxonomy.value_names(prop)
    if possible:
        if value_ids:
            names = []
            for i, vid in enumerate(value_ids):
                if vid not in possible:
                    raise bad_request(f"{where}: value_id {vid} is not a valid value of {prop['name']} ({pid})")
                canonical = possible[vid]["name"]
                if i < len(values) and values[i].strip().lower() != canonical.lower():
                    raise bad_request(f"{where}: value {values[i]!r} does not match value_id {vid} ({canonical!r})")
                names.append(canonical)
            ids = list(value_ids)
        else:
            by_name = {v["name"].lower(): v for v in prop["possible_values"]}
            ids, names = [], []
            for value in values:
                match = by_name.get(value.strip().lower())
                if match is None:
                    raise bad_request(f"{where}: {value!r} is not a valid value of {prop['name']} ({pid}); "
                                      f"valid: {', '.join(v['name'] for v in prop['possible_values'][:12])}")
                ids.append(match["value_id"])
                names.append(match["name"])
        value_scales = {possible[v]["scale_id"] for v in ids}
        if scales:
            value_scales.discard(None)
            if scale_id is None and len(value_scales) == 1:
                scale_id = value_scales.pop()
            elif scale_id is not None and value_scales - {scale_id}:
                raise bad_request(f"{where}: values are not all on scale {scale_id}")
    else:
        if not values or not all(v.strip() for v in values):
            raise bad_request(f"{where}: property {prop['name']} ({pid}) needs non-empty values")
        names = [v.strip() for v in values]
        ids = [_custom_value_id(state, pid, v) for v in names]
    return {"property_id": pid, "property_name": prop["name"], "scale_id": scale_id,
            "scale_name": scales[scale_id]["display_name"] if scale_id in scales else None,
            "value_ids": ids, "values": names}


def _key(pv):
    return tuple(sorted(v.lower() for v in pv["values"])) or tuple(pv["value_ids"])


def updateListingInventory(ctx):
    body = ctx.json()
    max_variations = ctx.query().enum("max_variations_supported", ("2", "3"), default="2")
    products_in = body.get("products")
    if not isinstance(products_in, list) or not products_in:
        raise bad_request("products must be a non-empty list")
    on_props = {}
    for name in ("price_on_property", "quantity_on_property", "sku_on_property", "readiness_state_on_property"):
        value = body.get(name, [])
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise bad_request(f"{name} must be a list of property ids")
        on_props[name] = value
    with ctx.state.lock:
        state = ctx.state
        listing = ctx.listing()
        shop = state.shops[listing["shop_id"]]
        products, property_ids, combos = [], None, set()
        for index, product in enumerate(products_in):
            where = f"products[{index}]"
            if not isinstance(product, dict):
                raise bad_request(f"{where} must be an object")
            bad = [k for k in FORBIDDEN_PRODUCT if k in product]
            offerings = product.get("offerings")
            if not isinstance(offerings, list) or len(offerings) != 1:
                raise bad_request(f"{where}.offerings must hold exactly one offering")
            offering = offerings[0]
            if not isinstance(offering, dict):
                raise bad_request(f"{where}.offerings[0] must be an object")
            bad += [f"offerings[0].{k}" for k in FORBIDDEN_OFFERING if k in offering]
            pvs = product.get("property_values", []) or []
            if not isinstance(pvs, list):
                raise bad_request(f"{where}.property_values must be a list")
            for j, pv in enumerate(pvs):
                if isinstance(pv, dict):
                    bad += [f"property_values[{j}].{k}" for k in FORBIDDEN_VALUE if k in pv]
            if bad:
                raise bad_request(f"{where}: {', '.join(bad)} cannot be sent: send the inventory without "
                                  "product_id, offering_id, is_deleted and scale_name")
            sku = product.get("sku") or ""
            if not isinstance(sku, str) or len(sku) > MAX_SKU:
                raise bad_request(f"{where}.sku must be a string of at most {MAX_SKU} characters")
            if len(pvs) > int(max_variations):
                raise bad_request(f"{where}: at most {max_variations} variation properties are allowed")
            resolved = [resolve_values(state, listing["taxonomy_id"], pv if isinstance(pv, dict) else {},
                                       f"{where}.property_values[{j}]", for_variation=True)
                        for j, pv in enumerate(pvs)]
            ids = [pv["property_id"] for pv in resolved]
            if len(set(ids)) != len(ids):
                raise bad_request(f"{where}: a property appears twice")
            if property_ids is None:
                property_ids = ids
            elif sorted(ids) != sorted(property_ids):
                raise bad_request(f"{where}: every product must use the same properties ({property_ids})")
            combo = tuple(sorted((pv["property_id"], _key(pv)) for pv in resolved))
            if combo in combos:
                raise bad_request(f"{where}: duplicate combination of property values")
            combos.add(combo)
            for field, kinds in (("price", (int, float)), ("quantity", (int,)), ("is_enabled", (bool,))):
                if field not in offering:
                    raise bad_request(f"{where}.offerings[0].{field} is required")
                value = offering[field]
                if not isinstance(value, kinds) or (field != "is_enabled" and isinstance(value, bool)):
                    raise bad_request(f"{where}.offerings[0].{field} has the wrong type")
            if "readiness_state_id" not in offering:
                raise bad_request(f"{where}.offerings[0].readiness_state_id is required")
            price = Decimal(str(offering["price"]))
            if not MIN_PRICE <= price <= MAX_PRICE:
                raise bad_request(f"{where}.offerings[0].price must be between {MIN_PRICE} and {MAX_PRICE}")
            if not 0 <= offering["quantity"] <= MAX_QUANTITY:
                raise bad_request(f"{where}.offerings[0].quantity must be between 0 and {MAX_QUANTITY}")
            rid = offering["readiness_state_id"]
            if rid is None and listing["listing_type"] != "download":
                raise bad_request(f"{where}.offerings[0].readiness_state_id is required for physical listings")
            if rid is not None:
                record = state.readiness.get(rid)
                if not isinstance(rid, int) or record is None or record["shop_id"] != shop["shop_id"]:
                    raise bad_request(f"{where}.offerings[0].readiness_state_id {rid} is not a processing "
                                      f"profile of shop {shop['shop_id']}")
            products.append({"sku": sku, "property_values": resolved,
                             "offering": {"price": to_cents(price), "quantity": offering["quantity"],
                                          "is_enabled": offering["is_enabled"], "readiness_state_id": rid}})
        property_ids = property_ids or []
        for name, ids in on_props.items():
            for pid in ids:
                if pid not in property_ids:
                    raise bad_request(f"{name}: property {pid} is not used by the products' property_values")
        _check_on_property(products, on_props["price_on_property"], lambda p: p["offering"]["price"], "price")
        _check_on_property(products, on_props["quantity_on_property"], lambda p: p["offering"]["quantity"],
                           "quantity")
        _check_on_property(products, on_props["sku_on_property"], lambda p: p["sku"], "sku")
        _check_on_property(products, on_props["readiness_state_on_property"],
                           lambda p: p["offering"]["readiness_state_id"], "readiness_state_id")
        if not any(p["offering"]["is_enabled"] for p in products):
            raise bad_request("At least one product offering must be enabled")
        listing["inventory"] = {
            "products": [{"product_id": state.next_id("product"), "sku": p["sku"], "is_deleted": False,
                          "offerings": [{"offering_id": state.next_id("offering"), "is_deleted": False,
                                         **p["offering"]}],
                          "property_values": p["property_values"]} for p in products],
            **{name: list(ids) for name, ids in on_props.items()},
        }
        sync_from_inventory(listing)
        # As on Etsy, the listing's processing profile is its offerings' (a listing made on
        # Etsy.com before processing profiles gets one from its first inventory write).
        readiness = [p["offering"]["readiness_state_id"] for p in products if p["offering"]["readiness_state_id"]]
        if readiness:
            listing["readiness_state_id"] = readiness[0]
        listing["updated"] = now()
        return 200, render.inventory(listing["inventory"], shop["currency_code"])


def _check_on_property(products, on_ids, value_of, label):
    """Products that agree on the ``*_on_property`` properties must agree on the value (#375)."""
    groups = {}
    for product in products:
        key = tuple(_key(pv) for pv in product["property_values"] if pv["property_id"] in on_ids)
        groups.setdefault(key, set()).add(value_of(product))
    for key, values in groups.items():
        if len(values) > 1:
            if not on_ids:
                raise bad_request(f"{label} differs between products but {label}_on_property is empty: "
                                  f"list the property ids the {label} depends on")
            raise bad_request(f"{label} must depend only on properties {on_ids} ({label}_on_property)")


def getListingInventory(ctx):
    q = ctx.query()
    show_deleted = q.bool("show_deleted", default=False)
    include = q.enum("includes", ("Listing",))
    with ctx.state.lock:
        listing = ctx.listing()
        shop = ctx.state.shops[listing["shop_id"]]
        body = render.inventory(listing["inventory"], shop["currency_code"], show_deleted)
        if include == "Listing":
            body["listing"] = render.listing(listing, ctx.state)
    return 200, body


# -- properties (item specifics) --------------------------------------------------------

def getListingProperties(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        listing = ctx.listing(of_shop=shop)
        rows = [render.property_value(v) for v in listing["properties"].values()]
    return 200, {"count": len(rows), "results": rows}


def updateListingProperty(ctx):
    params = ctx.form()
    if not params.has("value_ids") and not params.has("values"):
        raise bad_request("Missing required parameter: value_ids and values")
    value_ids = params.int_list("value_ids") or []
    values = params.list("values", split=False) or []
    scale_id = params.int("scale_id", minimum=1)
    with ctx.state.lock:
        shop = ctx.shop()
        listing = ctx.listing(of_shop=shop)
        pid = ctx.path_int("property_id")
        if pid in taxonomy.CUSTOM_PROPERTY_IDS:
            raise bad_request(f"property {pid} is a custom variation property; set it through the inventory")
        if taxonomy.find_property(listing["taxonomy_id"], pid) is None:
            raise bad_request(f"property_id {pid} is not a property of taxonomy node {listing['taxonomy_id']}")
        resolved = resolve_values(ctx.state, listing["taxonomy_id"],
                                  {"property_id": pid, "value_ids": value_ids, "values": values,
                                   "scale_id": scale_id}, "property", for_variation=False)
        listing["properties"][pid] = resolved
        listing["updated"] = now()
        return 200, render.property_value(resolved)


def deleteListingProperty(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        listing = ctx.listing(of_shop=shop)
        pid = ctx.path_int("property_id")
        if listing["properties"].pop(pid, None) is not None:
            listing["updated"] = now()
    return 204, None
