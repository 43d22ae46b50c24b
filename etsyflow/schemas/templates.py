"""Upstream delivery templates ↔ Etsy shipping and processing profiles.

The only module that knows both sides' field names for delivery templates:
``DeliveryTemplateReady`` data (already validated by ``schemas.events``) in,
Etsy request forms out, and the ``DeliveryTemplateSynced`` data back.
"""

from __future__ import annotations

import math
from decimal import Decimal

from ..etsy.money import money_to_decimal, to_etsy_price

#: Etsy's processing profile holds 1–10 days or 1–10 weeks.
MAX_PROCESSING_UNITS = 10
DAYS_PER_WEEK = 7


def destination_key(destination: dict) -> str:
    """A stable name for one destination: ``country:DE`` or ``region:eu``."""
    if destination.get("country_iso"):
        return f"country:{destination['country_iso']}"
    return f"region:{destination['region']}"


def _destination_target(destination: dict) -> dict:
    if destination.get("country_iso"):
        return {"destination_country_iso": destination["country_iso"]}
    return {"destination_region": destination["region"]}


def destination_form(destination: dict) -> dict:
    """One upstream destination → the fields of ``createShopShippingProfileDestination``."""
    return {
        **_destination_target(destination),
        "primary_cost": to_etsy_price(destination["primary_cost"]),
        "secondary_cost": to_etsy_price(destination["secondary_cost"]),
        "min_delivery_days": destination["min_delivery_days"],
        "max_delivery_days": destination["max_delivery_days"],
    }


def destination_update_form(destination: dict) -> dict:
    """Fields of ``updateShopShippingProfileDestination`` (same shape as create)."""
    return destination_form(destination)


def profile_form(template: dict) -> dict:
    """The template → ``createShopShippingProfile`` fields (the first destination is the primary one)."""
    first = template["destinations"][0]
    form = {
        "title": template["title"],
        "origin_country_iso": template["origin_country_iso"],
        **destination_form(first),
    }
    if template.get("origin_postal_code"):
        form["origin_postal_code"] = template["origin_postal_code"]
    return form


def profile_update_form(template: dict) -> dict:
    """Fields of ``updateShopShippingProfile`` (title and origin; destinations are separate calls)."""
    form = {"title": template["title"], "origin_country_iso": template["origin_country_iso"]}
    if template.get("origin_postal_code"):
        form["origin_postal_code"] = template["origin_postal_code"]
    return form


def processing_form(template: dict) -> dict:
    """Processing days → ``createShopReadinessStateDefinition`` fields.

    Etsy holds 1–10 days or 1–10 weeks. Up to 10 days is sent in days; more
    is sent in (calendar) weeks, rounded up so the promise to the buyer is
    never shorter than the upstream's. The inbound schema caps days at 70.
    """
    low, high = template["processing_min_days"], template["processing_max_days"]
    form = {"readiness_state": template.get("readiness_state") or "ready_to_ship"}
    if high <= MAX_PROCESSING_UNITS:
        form.update(min_processing_time=low, max_processing_time=high, processing_time_unit="days")
    else:
        form.update(min_processing_time=max(1, math.ceil(low / DAYS_PER_WEEK)),
                    max_processing_time=min(MAX_PROCESSING_UNITS, math.ceil(high / DAYS_PER_WEEK)),
                    processing_time_unit="weeks")
    return form


def profile_identity(template: dict) -> dict:
    """What tells our profile apart in ``getShopShippingProfiles`` (crash recovery)."""
    return {"title": template["title"], "origin_country_iso": template["origin_country_iso"]}


def matches_profile(profile: dict, template: dict) -> bool:
    """Is this Etsy ``ShopShippingProfile`` the one ``template`` would have created?"""
    if profile.get("is_deleted"):
        return False
    if profile.get("title") != template["title"] or profile.get("origin_country_iso") != template["origin_country_iso"]:
        return False
    wanted = _destination_target(template["destinations"][0])
    for dest in profile.get("shipping_profile_destinations") or []:
        if all(dest.get(k) == v for k, v in wanted.items()):
            return True
    return False


def primary_destination_id(profile: dict, template: dict) -> int | None:
    """The id of the destination Etsy made from the create call's primary destination."""
    wanted = _destination_target(template["destinations"][0])
    for dest in profile.get("shipping_profile_destinations") or []:
        if all(dest.get(k) == v for k, v in wanted.items()):
            return int(dest["shipping_profile_destination_id"])
    return None


def synced_data(template: dict, *, shipping_profile_id: int, readiness_state_id: int | None,
                created: bool, updated: bool, note: str | None = None) -> dict:
    """``DeliveryTemplateSynced`` data."""
    data = {
        "shop_id": template["shop_id"],
        "template_id": template["template_id"],
        "shipping_profile_id": shipping_profile_id,
        "readiness_state_id": readiness_state_id,
        "created": created,
        "updated": updated,
    }
    if note:
        data["note"] = note
    return data


def etsy_destination_key(dest: dict) -> str:
    """The :func:`destination_key` of an Etsy ``ShopShippingProfileDestination``."""
    if dest.get("destination_country_iso"):
        return f"country:{dest['destination_country_iso']}"
    return f"region:{dest.get('destination_region') or 'none'}"


def destination_differs(etsy_dest: dict, destination: dict) -> bool:
    """Does the Etsy destination need an update to match the upstream one?"""
    def cost(value):
        return money_to_decimal(value) if isinstance(value, dict) else Decimal(str(value))

    return (cost(etsy_dest.get("primary_cost")) != Decimal(destination["primary_cost"])
            or cost(etsy_dest.get("secondary_cost")) != Decimal(destination["secondary_cost"])
            or etsy_dest.get("min_delivery_days") != destination["min_delivery_days"]
            or etsy_dest.get("max_delivery_days") != destination["max_delivery_days"])


def profile_differs(profile: dict, template: dict) -> bool:
    """Do the Etsy profile's own fields (not its destinations) differ from the template?"""
    return (profile.get("title") != template["title"]
            or profile.get("origin_country_iso") != template["origin_country_iso"]
            or (profile.get("origin_postal_code") or None) != (template.get("origin_postal_code") or None))


# -- reading Etsy's ShopShippingProfile ------------------------------------------------

def profile_id(profile: dict) -> int:
    return int(profile["shipping_profile_id"])


def profile_destinations(profile: dict) -> list[dict] | None:
    """The destinations a profile answer carries (None when Etsy left them out)."""
    return profile.get("shipping_profile_destinations")


def destination_id(destination: dict) -> int:
    return int(destination["shipping_profile_destination_id"])


def is_deleted(profile: dict) -> bool:
    return bool(profile.get("is_deleted"))
