"""Shop, user, shipping profiles and destinations, processing profiles, return
policies and the seller taxonomy."""

from __future__ import annotations

import re
import time

from . import render, taxonomy
from .errors import bad_request, conflict, not_found
from .forms import to_cents

_ISO = re.compile(r"^[A-Z]{2}$")
# Countries whose shipping profiles need an origin postal code on Etsy.
POSTAL_COUNTRIES = {"US", "CA", "AU", "GB", "DE", "FR", "IT", "ES", "NL", "IN", "BE", "AT", "CH", "SE", "PL", "JP"}
RETURN_DEADLINES = (7, 14, 21, 30, 45, 60, 90)


def _iso(params, name, *, required=False):
    value = params.str(name, required=required)
    if value is None or value == "":
        return None
    if not _ISO.match(value):
        raise bad_request(f"{name} must be an ISO 3166-1 alpha-2 country code such as US (got {value!r})")
    return value


def getMe(ctx):
    uid = ctx.token["user_id"]
    with ctx.state.lock:
        shop_id = ctx.state.shop_by_user.get(uid)
    body = {"user_id": uid}
    if shop_id:
        body["shop_id"] = shop_id
    return 200, body


def getShop(ctx):
    with ctx.state.lock:
        return 200, render.shop(ctx.shop(), ctx.state)


# -- shipping profiles -----------------------------------------------------------

def _destination_fields(params, *, partial=False, current=None):
    """Validate destination-ish fields; returns the dict of given fields."""
    out = {}
    for cost in ("primary_cost", "secondary_cost"):
        value = params.decimal(cost, required=not partial, minimum=0, nullable=partial)
        if value is not None:
            out[cost] = to_cents(value)
    country = _iso(params, "destination_country_iso")
    region = params.enum("destination_region", ("eu", "non_eu", "none"))
    if not partial or country is not None or region is not None:
        region_given = region not in (None, "none")
        if country and region_given:
            raise bad_request("Provide exactly one of destination_country_iso or destination_region, not both")
        if not country and not region_given:
            if not partial:
                raise bad_request("Provide exactly one of destination_country_iso or destination_region")
        else:
            out["destination_country_iso"] = country
            out["destination_region"] = region if region_given else "none"
    carrier = params.int("shipping_carrier_id", minimum=0, nullable=True)
    mail_class = params.str("mail_class")
    low = params.int("min_delivery_days", minimum=1, maximum=45, nullable=True)
    high = params.int("max_delivery_days", minimum=1, maximum=45, nullable=True)
    merged = dict(current or {})
    for key, value in (("shipping_carrier_id", carrier), ("mail_class", mail_class),
                       ("min_delivery_days", low), ("max_delivery_days", high)):
        if value is not None:
            merged[key] = value
            out[key] = value
    has_carrier = bool(merged.get("shipping_carrier_id")) and bool(merged.get("mail_class"))
    has_days = merged.get("min_delivery_days") is not None and merged.get("max_delivery_days") is not None
    if not has_carrier and not has_days:
        raise bad_request("Provide either shipping_carrier_id and mail_class, or min_delivery_days and max_delivery_days")
    if has_days and merged["min_delivery_days"] > merged["max_delivery_days"]:
        raise bad_request("min_delivery_days must not be greater than max_delivery_days")
    if bool(merged.get("shipping_carrier_id")) != bool(merged.get("mail_class")) and not has_days:
        raise bad_request("shipping_carrier_id and mail_class must be given together")
    return out


def _new_destination(ctx, profile, fields):
    dest_id = ctx.state.next_id("destination")
    dest = {"shipping_profile_destination_id": dest_id, "shipping_profile_id": profile["shipping_profile_id"],
            "origin_country_iso": profile["origin_country_iso"], "destination_country_iso": None,
            "destination_region": "none", "shipping_carrier_id": None, "mail_class": None,
            "min_delivery_days": None, "max_delivery_days": None, "primary_cost": 0, "secondary_cost": 0}
    dest.update(fields)
    for other in profile["destination_ids"]:
        existing = ctx.state.destinations.get(other)
        if existing and existing["destination_country_iso"] == dest["destination_country_iso"] \
                and existing["destination_region"] == dest["destination_region"]:
            where = dest["destination_country_iso"] or dest["destination_region"]
            raise bad_request(f"This shipping profile already has a destination for {where}")
    ctx.state.destinations[dest_id] = dest
    profile["destination_ids"].append(dest_id)
    return dest


def createShopShippingProfile(ctx):
    params = ctx.form()
    title = params.str("title", required=True, allow_empty=False)
    origin = _iso(params, "origin_country_iso", required=True)
    postal = params.str("origin_postal_code", default="")
    if origin in POSTAL_COUNTRIES and not postal:
        raise bad_request(f"origin_postal_code is required for shipping profiles from {origin}")
    params.int("min_processing_time", minimum=1, maximum=10)
    params.int("max_processing_time", minimum=1, maximum=10)
    params.enum("processing_time_unit", ("business_days", "weeks"))
    fields = _destination_fields(params)
    with ctx.state.lock:
        shop = ctx.shop()
        profile_id = ctx.state.next_id("shipping_profile")
        profile = {"shipping_profile_id": profile_id, "shop_id": shop["shop_id"], "user_id": shop["user_id"],
                   "title": title, "origin_country_iso": origin, "origin_postal_code": postal or None,
                   "destination_ids": [], "is_deleted": False}
        ctx.state.shipping_profiles[profile_id] = profile
        _new_destination(ctx, profile, fields)
        return 200, render.shipping_profile(profile, ctx.state)


def _profile(ctx, shop):
    profile_id = ctx.path_int("shipping_profile_id")
    profile = ctx.state.shipping_profiles.get(profile_id)
    if profile is None or profile["shop_id"] != shop["shop_id"] or profile["is_deleted"]:
        raise not_found(f"Shipping profile {profile_id} not found in shop {shop['shop_id']}")
    return profile


def getShopShippingProfiles(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        results = [render.shipping_profile(p, ctx.state) for p in ctx.state.shipping_profiles.values()
                   if p["shop_id"] == shop["shop_id"] and not p["is_deleted"]]
    return 200, {"count": len(results), "results": results}


def getShopShippingProfile(ctx):
    with ctx.state.lock:
        return 200, render.shipping_profile(_profile(ctx, ctx.shop()), ctx.state)


def updateShopShippingProfile(ctx):
    params = ctx.form()
    title = params.str("title")
    if title is not None and not title.strip():
        raise bad_request("title cannot be empty")
    origin = _iso(params, "origin_country_iso")
    postal = params.str("origin_postal_code")
    params.int("min_processing_time", minimum=1, maximum=10)
    params.int("max_processing_time", minimum=1, maximum=10)
    params.enum("processing_time_unit", ("business_days", "weeks"))
    with ctx.state.lock:
        profile = _profile(ctx, ctx.shop())
        if title is not None:
            profile["title"] = title
        if origin is not None:
            profile["origin_country_iso"] = origin
            for dest_id in profile["destination_ids"]:
                ctx.state.destinations[dest_id]["origin_country_iso"] = origin
        if postal is not None:
            profile["origin_postal_code"] = postal or None
        if profile["origin_country_iso"] in POSTAL_COUNTRIES and not profile["origin_postal_code"]:
            raise bad_request(f"origin_postal_code is required for shipping profiles from {profile['origin_country_iso']}")
        return 200, render.shipping_profile(profile, ctx.state)


def deleteShopShippingProfile(ctx):
    with ctx.state.lock:
        profile = _profile(ctx, ctx.shop())
        users = [l["listing_id"] for l in ctx.state.listings.values()
                 if l["shipping_profile_id"] == profile["shipping_profile_id"] and l["state"] != "removed"]
        if users:
            raise bad_request(f"Shipping profile {profile['shipping_profile_id']} is used by {len(users)} listing(s); "
                              "assign them another profile first")
        profile["is_deleted"] = True
    return 204, None


def createShopShippingProfileDestination(ctx):
    params = ctx.form()
    fields = _destination_fields(params)
    with ctx.state.lock:
        profile = _profile(ctx, ctx.shop())
        dest = _new_destination(ctx, profile, fields)
        return 201, render.destination(dest, ctx.state.shops[profile["shop_id"]]["currency_code"])


def getShopShippingProfileDestinationsByShippingProfile(ctx):
    q = ctx.query()
    limit = q.int("limit", minimum=1, maximum=100, default=25)
    offset = q.int("offset", minimum=0, default=0)
    with ctx.state.lock:
        profile = _profile(ctx, ctx.shop())
        currency = ctx.state.shops[profile["shop_id"]]["currency_code"]
        all_dests = [render.destination(ctx.state.destinations[d], currency) for d in profile["destination_ids"]]
    return 200, {"count": len(all_dests), "results": all_dests[offset:offset + limit]}


def _destination(ctx, profile):
    dest_id = ctx.path_int("shipping_profile_destination_id")
    if dest_id not in profile["destination_ids"]:
        raise not_found(f"Destination {dest_id} not found in shipping profile {profile['shipping_profile_id']}")
    return ctx.state.destinations[dest_id]


def updateShopShippingProfileDestination(ctx):
    params = ctx.form()
    with ctx.state.lock:
        profile = _profile(ctx, ctx.shop())
        dest = _destination(ctx, profile)
        fields = _destination_fields(params, partial=True, current=dest)
        dest.update(fields)
        return 200, render.destination(dest, ctx.state.shops[profile["shop_id"]]["currency_code"])


def deleteShopShippingProfileDestination(ctx):
    with ctx.state.lock:
        profile = _profile(ctx, ctx.shop())
        dest = _destination(ctx, profile)
        if len(profile["destination_ids"]) == 1:
            raise bad_request("A shipping profile needs at least one destination; delete the profile instead")
        profile["destination_ids"].remove(dest["shipping_profile_destination_id"])
        del ctx.state.destinations[dest["shipping_profile_destination_id"]]
    return 204, None


# -- processing profiles (readiness state definitions) --------------------------

def _readiness_fields(params, *, partial=False, current=None):
    state_name = params.enum("readiness_state", ("ready_to_ship", "made_to_order"), required=not partial)
    low = params.int("min_processing_time", required=not partial, minimum=1, maximum=10)
    high = params.int("max_processing_time", required=not partial, minimum=1, maximum=10)
    unit = params.enum("processing_time_unit", ("days", "weeks"))
    cur = current or {}
    unit = unit or cur.get("processing_time_unit") or "days"
    factor = 7 if unit == "weeks" else 1
    if low is None:
        low = cur["min_processing_days"] // (7 if cur.get("processing_time_unit") == "weeks" else 1)
    if high is None:
        high = cur["max_processing_days"] // (7 if cur.get("processing_time_unit") == "weeks" else 1)
    if low > high:
        raise bad_request("min_processing_time must not be greater than max_processing_time")
    return {"readiness_state": state_name or cur.get("readiness_state"), "min_processing_days": low * factor,
            "max_processing_days": high * factor, "processing_time_unit": unit}


def _same(a, b):
    return all(a[k] == b[k] for k in ("readiness_state", "min_processing_days", "max_processing_days"))


def _conflict_location(ctx, shop_id, rid):
    return {"Content-Location": f"/v3/application/shops/{shop_id}/readiness-state-definitions/{rid}"}


def createShopReadinessStateDefinition(ctx):
    fields = _readiness_fields(ctx.form())
    with ctx.state.lock:
        shop = ctx.shop()
        for existing in ctx.state.readiness.values():
            if existing["shop_id"] == shop["shop_id"] and _same(existing, fields):
                rid = existing["readiness_state_id"]
                raise conflict("A processing profile with these values already exists",
                               headers=_conflict_location(ctx, shop["shop_id"], rid))
        rid = ctx.state.next_id("readiness")
        record = {"readiness_state_id": rid, "shop_id": shop["shop_id"], **fields}
        ctx.state.readiness[rid] = record
        return 201, render.processing_profile(record)


def getShopReadinessStateDefinitions(ctx):
    q = ctx.query()
    limit = q.int("limit", minimum=1, maximum=100, default=25)
    offset = q.int("offset", minimum=0, default=0)
    with ctx.state.lock:
        shop = ctx.shop()
        rows = [render.processing_profile(r) for r in ctx.state.readiness.values() if r["shop_id"] == shop["shop_id"]]
    return 200, {"count": len(rows), "results": rows[offset:offset + limit]}


def _readiness(ctx, shop):
    rid = ctx.path_int("readiness_state_definition_id")
    record = ctx.state.readiness.get(rid)
    if record is None or record["shop_id"] != shop["shop_id"]:
        raise not_found(f"Processing profile {rid} not found in shop {shop['shop_id']}")
    return record


def getShopReadinessStateDefinition(ctx):
    with ctx.state.lock:
        return 200, render.processing_profile(_readiness(ctx, ctx.shop()))


def updateShopReadinessStateDefinition(ctx):
    params = ctx.form()
    with ctx.state.lock:
        shop = ctx.shop()
        record = _readiness(ctx, shop)
        fields = _readiness_fields(params, partial=True, current=record)
        for existing in ctx.state.readiness.values():
            if existing is not record and existing["shop_id"] == shop["shop_id"] and _same(existing, fields):
                raise conflict("A processing profile with these values already exists",
                               headers=_conflict_location(ctx, shop["shop_id"], existing["readiness_state_id"]))
        record.update(fields)
        return 200, render.processing_profile(record)


def deleteShopReadinessStateDefinition(ctx):
    with ctx.state.lock:
        record = _readiness(ctx, ctx.shop())
        rid = record["readiness_state_id"]
        used = [l for l in ctx.state.listings.values() if l["readiness_state_id"] == rid]
        if used:
            raise bad_request(f"Processing profile {rid} is used by {len(used)} listing(s)")
        del ctx.state.readiness[rid]
    return 204, None


# -- return policies ------------------------------------------------------------

def _policy_fields(params):
    returns = params.bool("accepts_returns", required=True)
    exchanges = params.bool("accepts_exchanges", required=True)
    deadline = params.int("return_deadline", nullable=True)
    if returns or exchanges:
        if deadline not in RETURN_DEADLINES:
            raise bad_request(f"return_deadline must be one of {', '.join(map(str, RETURN_DEADLINES))} "
                              "when returns or exchanges are accepted")
    elif deadline is not None:
        raise bad_request("return_deadline must be null when neither returns nor exchanges are accepted")
    return {"accepts_returns": returns, "accepts_exchanges": exchanges, "return_deadline": deadline}


def new_return_policy(state, shop_id, fields):
    pid = state.next_id("return_policy")
    record = {"return_policy_id": pid, "shop_id": shop_id, **fields}
    state.return_policies[pid] = record
    return record


def createShopReturnPolicy(ctx):
    fields = _policy_fields(ctx.form())
    with ctx.state.lock:
        shop = ctx.shop()
        return 200, render.return_policy(new_return_policy(ctx.state, shop["shop_id"], fields))


def getShopReturnPolicies(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        rows = [render.return_policy(p) for p in ctx.state.return_policies.values() if p["shop_id"] == shop["shop_id"]]
    return 200, {"count": len(rows), "results": rows}


def getShopReturnPolicy(ctx):
    with ctx.state.lock:
        shop = ctx.shop()
        pid = ctx.path_int("return_policy_id")
        policy = ctx.state.return_policies.get(pid)
        if policy is None or policy["shop_id"] != shop["shop_id"]:
            raise not_found(f"Return policy {pid} not found in shop {shop['shop_id']}")
        return 200, render.return_policy(policy)


# -- taxonomy ---------------------------------------------------------------------

def getSellerTaxonomyNodes(ctx):
    nodes = taxonomy.nodes()
    return 200, {"count": len(nodes), "results": nodes}


def getPropertiesByTaxonomyId(ctx):
    tid = ctx.path_int("taxonomy_id")
    props = taxonomy.properties(tid)
    if props is None:
        raise not_found(f"Taxonomy node {tid} not found")
    return 200, {"count": len(props), "results": props}


def ping(ctx):
    return 200, {"application_id": 1}


def timestamp() -> int:
    return int(time.time())


__all__ = [name for name in dir() if name[:1].islower() and not name.startswith("_")]
