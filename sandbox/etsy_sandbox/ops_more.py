"""Operations beyond a seller's main flow that still keep or read state: users, shop
search and settings, shop sections, listing lookups, transactions, carriers,
token scopes, the buyer taxonomy. (Everything else answers through ``generic``.)"""

from __future__ import annotations

from decimal import Decimal

from . import render, taxonomy
from .errors import bad_request, forbidden, not_found
from .forms import money, to_cents
from .ops_listings import INCLUDES, _includes, now


def _page(ctx, rows, *, default=25):
    q = ctx.query()
    limit = q.int("limit", minimum=1, maximum=100, default=default)
    offset = q.int("offset", minimum=0, default=0)
    return {"count": len(rows), "results": rows[offset:offset + limit]}


# -- users and shops ------------------------------------------------------------------

def getUser(ctx):
    uid = ctx.path_int("user_id")
    with ctx.state.lock:
        user = ctx.state.users.get(uid)
        if user is None:
            raise not_found(f"User with user_id {uid} not found")
        if uid != ctx.token["user_id"]:
            raise forbidden("You may only read the user of the access token")
        return 200, render.user(user)


def getShopByOwnerUserId(ctx):
    uid = ctx.path_int("user_id")
    with ctx.state.lock:
        shop_id = ctx.state.shop_by_user.get(uid)
        if shop_id is None:
            raise not_found(f"User {uid} has no shop")
        return 200, render.shop(ctx.state.shops[shop_id], ctx.state)


def findShops(ctx):
    name = (ctx.query().str("shop_name", required=True) or "").lower()
    with ctx.state.lock:
        rows = [render.shop(s, ctx.state) for s in ctx.state.shops.values() if name in s["shop_name"].lower()]
    return 200, _page(ctx, rows)


def updateShop(ctx):
    params = ctx.form()
    changes = {name: params.str(name) for name in ("title", "announcement", "sale_message", "digital_sale_message",
                                                    "policy_additional")}
    if changes["title"] is not None and len(changes["title"]) > 55:
        raise bad_request("title must be at most 55 characters")
    with ctx.state.lock:
        shop = ctx.shop()
        shop.update({k: v for k, v in changes.items() if v is not None})
        shop["updated"] = now()
        return 200, render.shop(shop, ctx.state)


def tokenScopes(ctx):
    token = ctx.form().str("token", required=True)
    with ctx.state.lock:
        record = ctx.state.access_tokens.get(token)
        scopes = sorted(record["scopes"]) if record else []
    return 200, {"scopes": scopes}


# -- shop sections ---------------------------------------------------------------------

def _sections(state) -> dict:
    return state.sections


def _render_section(state, section):
    active = sum(1 for l in state.listings.values()
                 if l["shop_section_id"] == section["shop_section_id"] and l["state"] == "active")
    return {"shop_section_id": section["shop_section_id"], "title": section["title"], "rank": section["rank"],
            "user_id": section["user_id"], "active_listing_count": active}


def _section(ctx, shop):
    sid = ctx.path_int("shop_section_id")
    section = _sections(ctx.state).get(sid)
    if section is None or section["shop_id"] != shop["shop_id"]:
        raise not_found(f"Shop section {sid} not found in shop {shop['shop_id']}")
    return section


def getShopSections(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        rows = [_render_section(ctx.state, s) for s in _sections(ctx.state).values()
                if s["shop_id"] == shop["shop_id"]]
    return 200, {"count": len(rows), "results": rows}


def createShopSection(ctx):
    title = ctx.form().str("title", required=True, allow_empty=False, max_length=24)
    with ctx.state.lock:
        shop = ctx.shop()
        sections = _sections(ctx.state)
        mine = [s for s in sections.values() if s["shop_id"] == shop["shop_id"]]
        if any(s["title"] == title for s in mine):
            raise bad_request(f"A shop section titled {title!r} already exists")
        sid = ctx.state.next_id("section")
        sections[sid] = {"shop_section_id": sid, "shop_id": shop["shop_id"], "user_id": shop["user_id"],
                         "title": title, "rank": len(mine) + 1}
        return 200, _render_section(ctx.state, sections[sid])


def getShopSection(ctx):
    with ctx.state.lock:
        return 200, _render_section(ctx.state, _section(ctx, ctx.shop()))


def updateShopSection(ctx):
    title = ctx.form().str("title", required=True, allow_empty=False, max_length=24)
    with ctx.state.lock:
        section = _section(ctx, ctx.shop())
        section["title"] = title
        return 200, _render_section(ctx.state, section)


def deleteShopSection(ctx):
    with ctx.state.lock:
        section = _section(ctx, ctx.shop())
        del _sections(ctx.state)[section["shop_section_id"]]
        for listing in ctx.state.listings.values():
            if listing["shop_section_id"] == section["shop_section_id"]:
                listing["shop_section_id"] = None
    return 204, None


def getListingsByShopSectionId(ctx):
    q = ctx.query()
    wanted = set(q.int_list("shop_section_ids") or [])
    with ctx.state.lock:
        shop = ctx.shop()
        rows = [render.listing(l, ctx.state) for l in ctx.state.listings.values()
                if l["shop_id"] == shop["shop_id"] and l["shop_section_id"] in wanted and l["state"] == "active"]
    return 200, _page(ctx, rows)


# -- listings -----------------------------------------------------------------------------

def findAllActiveListingsByShop(ctx):
    keywords = (ctx.query().str("keywords") or "").lower()
    with ctx.state.lock:
        shop = ctx.shop()
        rows = [render.listing(l, ctx.state) for l in ctx.state.listings.values()
                if l["shop_id"] == shop["shop_id"] and l["state"] == "active"
                and (not keywords or keywords in (l["title"] + " " + " ".join(l["tags"])).lower())]
    return 200, _page(ctx, rows)


def findAllListingsActive(ctx):
    q = ctx.query()
    keywords = (q.str("keywords") or "").lower()
    taxonomy_id = q.int("taxonomy_id")
    with ctx.state.lock:
        rows = [render.listing(l, ctx.state) for l in ctx.state.listings.values()
                if l["state"] == "active" and (taxonomy_id is None or l["taxonomy_id"] == taxonomy_id)
                and (not keywords or keywords in (l["title"] + " " + " ".join(l["tags"])).lower())]
    return 200, _page(ctx, rows)


def getListingsByListingIds(ctx):
    ids = ctx.query().int_list("listing_ids") or []
    if len(ids) > 100:
        raise bad_request("listing_ids takes at most 100 ids")
    includes = _includes(ctx, INCLUDES)
    with ctx.state.lock:
        rows = [render.listing_with(ctx.state.listings[i], ctx.state, includes, ctx.base_url)
                for i in dict.fromkeys(ids) if i in ctx.state.listings]
    return 200, {"count": len(rows), "results": rows}


def getListingProperty(ctx):
    with ctx.state.lock:
        listing = ctx.listing()
        pid = ctx.path_int("property_id")
        value = listing["properties"].get(pid)
        if value is None:
            raise not_found(f"Listing {listing['listing_id']} has no value for property {pid}")
        return 200, render.property_value(value)


def _product(ctx, listing):
    product_id = ctx.path_int("product_id")
    for product in render.inventory(listing["inventory"], ctx.state.shops[listing["shop_id"]]["currency_code"])["products"]:
        if product["product_id"] == product_id:
            return product
    raise not_found(f"Product {product_id} not found in listing {listing['listing_id']}")


def getListingProduct(ctx):
    with ctx.state.lock:
        return 200, _product(ctx, ctx.listing())


def getListingOffering(ctx):
    with ctx.state.lock:
        product = _product(ctx, ctx.listing())
        offering_id = ctx.path_int("product_offering_id")
        for offering in product["offerings"]:
            if offering["offering_id"] == offering_id:
                return 200, offering
        raise not_found(f"Offering {offering_id} not found in product {product['product_id']}")


def getListingsByShopReturnPolicy(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        pid = ctx.path_int("return_policy_id")
        if ctx.state.return_policies.get(pid, {}).get("shop_id") != shop["shop_id"]:
            raise not_found(f"Return policy {pid} not found in shop {shop['shop_id']}")
        rows = [render.listing(l, ctx.state) for l in ctx.state.listings.values()
                if l["shop_id"] == shop["shop_id"] and l["return_policy_id"] == pid]
    return 200, {"count": len(rows), "results": rows}


# -- shipping profile upgrades ------------------------------------------------------------------

def _profile_of(ctx, shop):
    pid = ctx.path_int("shipping_profile_id")
    profile = ctx.state.shipping_profiles.get(pid)
    if profile is None or profile["shop_id"] != shop["shop_id"] or profile["is_deleted"]:
        raise not_found(f"Shipping profile {pid} not found in shop {shop['shop_id']}")
    return profile


def _upgrade_fields(params, *, partial):
    fields = {"upgrade_name": params.str("upgrade_name", required=not partial, allow_empty=False),
              "type": params.enum("type", ("0", "1"), required=not partial),
              "price": params.decimal("price", required=not partial, minimum=0),
              "secondary_price": params.decimal("secondary_price", required=not partial, minimum=0),
              "shipping_carrier_id": params.int("shipping_carrier_id", minimum=0, nullable=True),
              "mail_class": params.str("mail_class"),
              "min_delivery_days": params.int("min_delivery_days", minimum=1, maximum=45, nullable=True),
              "max_delivery_days": params.int("max_delivery_days", minimum=1, maximum=45, nullable=True)}
    out = {k: v for k, v in fields.items() if v is not None}
    for name in ("price", "secondary_price"):
        if name in out:
            out[name] = to_cents(out[name])
    if "type" in out:
        out["type"] = int(out["type"])
    return out


def getShopShippingProfileUpgrades(ctx):
    with ctx.state.lock:
        profile = _profile_of(ctx, ctx.shop())
        rows = [render.upgrade(u, ctx.state) for u in profile.setdefault("upgrades", [])]
    return 200, {"count": len(rows), "results": rows}


def createShopShippingProfileUpgrade(ctx):
    fields = _upgrade_fields(ctx.form(), partial=False)
    with ctx.state.lock:
        profile = _profile_of(ctx, ctx.shop())
        upgrades = profile.setdefault("upgrades", [])
        upgrade = {"upgrade_id": ctx.state.next_id("upgrade"), "shipping_profile_id": profile["shipping_profile_id"],
                   "rank": len(upgrades), "shipping_carrier_id": None, "mail_class": None,
                   "min_delivery_days": None, "max_delivery_days": None, **fields}
        upgrades.append(upgrade)
        return 200, render.upgrade(upgrade, ctx.state)


def _upgrade(ctx, profile):
    uid = ctx.path_int("upgrade_id")
    for upgrade in profile.setdefault("upgrades", []):
        if upgrade["upgrade_id"] == uid:
            return upgrade
    raise not_found(f"Upgrade {uid} not found in shipping profile {profile['shipping_profile_id']}")


def updateShopShippingProfileUpgrade(ctx):
    fields = _upgrade_fields(ctx.form(), partial=True)
    with ctx.state.lock:
        upgrade = _upgrade(ctx, _profile_of(ctx, ctx.shop()))
        upgrade.update(fields)
        return 200, render.upgrade(upgrade, ctx.state)


def deleteShopShippingProfileUpgrade(ctx):
    with ctx.state.lock:
        profile = _profile_of(ctx, ctx.shop())
        profile["upgrades"].remove(_upgrade(ctx, profile))
    return 204, None


# -- translations and personalization ------------------------------------------------------

LANGUAGES = ("de", "en-GB", "en-IN", "en-US", "es", "fr", "it", "ja", "nl", "pl", "pt", "ru")


def _translation_key(ctx, listing):
    language = ctx.raw_params["language"]
    if language not in LANGUAGES:
        raise bad_request(f"language must be one of {', '.join(LANGUAGES)}")
    return listing["listing_id"], language


def _render_translation(key, record):
    return {"listing_id": key[0], "language": key[1], "title": record["title"],
            "description": record["description"], "tags": list(record["tags"])}


def getListingTranslation(ctx):
    with ctx.state.lock:
        listing = ctx.listing(of_shop=ctx.shop())
        key = _translation_key(ctx, listing)
        record = ctx.state.translations.get(key)
        if record is None:
            raise not_found(f"Listing {key[0]} has no {key[1]} translation")
        return 200, _render_translation(key, record)


def _write_translation(ctx, *, create):
    params = ctx.form()
    record = {"title": params.str("title", required=True), "description": params.str("description", required=True),
              "tags": params.list("tags") or []}
    with ctx.state.lock:
        listing = ctx.listing(of_shop=ctx.shop())
        key = _translation_key(ctx, listing)
        if create and key in ctx.state.translations:
            raise bad_request(f"Listing {key[0]} already has a {key[1]} translation; update it instead")
        if not create and key not in ctx.state.translations:
            raise not_found(f"Listing {key[0]} has no {key[1]} translation")
        ctx.state.translations[key] = record
        return 200, _render_translation(key, record)


def createListingTranslation(ctx):
    return _write_translation(ctx, create=True)


def updateListingTranslation(ctx):
    return _write_translation(ctx, create=False)


def getListingPersonalization(ctx):
    with ctx.state.lock:
        listing = ctx.listing()
        return 200, {"personalization_questions": list(ctx.state.personalization.get(listing["listing_id"], []))}


def updateListingPersonalization(ctx):
    questions = ctx.json().get("personalization_questions")
    if not isinstance(questions, list):
        raise bad_request("Missing required parameter: personalization_questions")
    with ctx.state.lock:
        listing = ctx.listing(of_shop=ctx.shop())
        currency = ctx.state.shops[listing["shop_id"]]["currency_code"]
        stored = []
        for question in questions:
            if not isinstance(question, dict) or not question.get("question_text"):
                raise bad_request("Every personalization question needs a question_text")
            price = question.get("add_on_price")
            stored.append({
                "question_id": ctx.state.next_id("question"), "question_type": question.get("question_type") or "text_input",
                "question_text": question["question_text"], "instructions": question.get("instructions"),
                "required": bool(question.get("required", False)),
                "max_allowed_characters": question.get("max_allowed_characters"),
                "max_allowed_files": question.get("max_allowed_files"),
                "options": [{"option_id": ctx.state.next_id("question"), "label": str(o.get("label", ""))}
                            for o in question.get("options") or [] if isinstance(o, dict)] or None,
                # Money, 0 when there is none: openapi-core refuses null for "nullable + oneOf".
                "add_on_price": money(to_cents(Decimal(str(price or 0))), currency),
            })
        ctx.state.personalization[listing["listing_id"]] = stored
        listing["is_personalizable"] = bool(stored)
        return 201, {"personalization_questions": stored}


def deleteListingPersonalization(ctx):
    with ctx.state.lock:
        listing = ctx.listing(of_shop=ctx.shop())
        ctx.state.personalization.pop(listing["listing_id"], None)
        listing["is_personalizable"] = False
    return 204, None


# -- return policies -------------------------------------------------------------------------

def _policy(ctx, shop):
    pid = ctx.path_int("return_policy_id")
    policy = ctx.state.return_policies.get(pid)
    if policy is None or policy["shop_id"] != shop["shop_id"]:
        raise not_found(f"Return policy {pid} not found in shop {shop['shop_id']}")
    return policy


def updateShopReturnPolicy(ctx):
    from .ops_shop import _policy_fields

    fields = _policy_fields(ctx.form())
    with ctx.state.lock:
        policy = _policy(ctx, ctx.shop())
        policy.update(fields)
        return 200, render.return_policy(policy)


def deleteShopReturnPolicy(ctx):
    with ctx.state.lock:
        policy = _policy(ctx, ctx.shop())
        used = [l for l in ctx.state.listings.values() if l["return_policy_id"] == policy["return_policy_id"]]
        if used:
            raise bad_request(f"Return policy {policy['return_policy_id']} is used by {len(used)} listing(s)")
        del ctx.state.return_policies[policy["return_policy_id"]]
    return 204, None


# -- transactions ------------------------------------------------------------------------------

def _shop_transactions(ctx, shop):
    for rid in ctx.state.receipts_by_shop.get(shop["shop_id"], []):
        receipt = ctx.state.receipts[rid]
        for t in receipt["transactions"]:
            yield t, receipt


def getShopReceiptTransactionsByReceipt(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        rid = ctx.path_int("receipt_id")
        receipt = ctx.state.receipts.get(rid)
        if receipt is None or receipt["shop_id"] != shop["shop_id"]:
            raise not_found(f"Receipt {rid} not found in shop {shop['shop_id']}")
        rows = [render.transaction(t, receipt) for t in receipt["transactions"]]
    return 200, {"count": len(rows), "results": rows}


def getShopReceiptTransactionsByShop(ctx):
    with ctx.state.lock:
        rows = [render.transaction(t, r) for t, r in _shop_transactions(ctx, ctx.shop())]
    return 200, _page(ctx, rows)


def getShopReceiptTransactionsByListing(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        lid = ctx.path_int("listing_id")
        rows = [render.transaction(t, r) for t, r in _shop_transactions(ctx, shop) if t["listing_id"] == lid]
    return 200, _page(ctx, rows)


def getShopReceiptTransaction(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        tid = ctx.path_int("transaction_id")
        for t, r in _shop_transactions(ctx, shop):
            if t["transaction_id"] == tid:
                return 200, render.transaction(t, r)
    raise not_found(f"Transaction {tid} not found in shop {shop['shop_id']}")


def getListingsByShopReceipt(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        rid = ctx.path_int("receipt_id")
        receipt = ctx.state.receipts.get(rid)
        if receipt is None or receipt["shop_id"] != shop["shop_id"]:
            raise not_found(f"Receipt {rid} not found in shop {shop['shop_id']}")
        ids = dict.fromkeys(t["listing_id"] for t in receipt["transactions"] if t["listing_id"])
        rows = [render.listing(ctx.state.listings[i], ctx.state) for i in ids if i in ctx.state.listings]
    return 200, {"count": len(rows), "results": rows}


# -- carriers and the buyer taxonomy -------------------------------------------------------

_MAIL_CLASSES = {"usps": [("first_class", "First-Class Mail"), ("priority", "Priority Mail")],
                 "ups": [("ground", "UPS Ground")], "fedex": [("ground", "FedEx Ground")],
                 "royal-mail": [("first_class", "Royal Mail 1st Class"), ("second_class", "Royal Mail 2nd Class")],
                 "canada-post": [("regular_parcel", "Regular Parcel")], "dhl": [("express", "DHL Express")]}


def getShippingCarriers(ctx):
    origin = ctx.query().str("origin_country_iso", required=True)
    if len(origin) != 2 or not origin.isalpha():
        raise bad_request("origin_country_iso must be an ISO 3166-1 alpha-2 country code such as US")
    rows = [{"shipping_carrier_id": 1000 + i, "name": name,
             "domestic_classes": [{"mail_class_key": k, "name": n} for k, n in classes],
             "international_classes": [{"mail_class_key": k, "name": n} for k, n in classes]}
            for i, (name, classes) in enumerate(sorted(_MAIL_CLASSES.items()))]
    return 200, {"count": len(rows), "results": rows}


def getBuyerTaxonomyNodes(ctx):
    nodes = taxonomy.nodes()
    return 200, {"count": len(nodes), "results": nodes}


def getPropertiesByBuyerTaxonomyId(ctx):
    tid = ctx.path_int("taxonomy_id")
    props = taxonomy.properties(tid)
    if props is None:
        raise not_found(f"Taxonomy node {tid} not found")
    return 200, {"count": len(props), "results": props}


__all__ = [name for name in dir() if name[:1].islower() and not name.startswith("_")]
