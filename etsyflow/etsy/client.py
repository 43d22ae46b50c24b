"""The Etsy Open API v3 client every actor uses.

``EtsyClient(shop_id)`` sends the app key (``x-api-key: KEYSTRING:SHARED_SECRET``)
and the shop's Bearer token on every call, with a timeout, through the shared
rate limiter, and applies the error table (:mod:`etsyflow.etsy.errors`) in the
call. Methods are named after Etsy's operationIds (snake_case) and take and
return Etsy's own field names; mapping to etsyflow's events lives in
``etsyflow.schemas``.

Bodies follow each operation: form-encoded for creates and most updates
(lists as repeated fields, booleans as ``true``/``false``), JSON for
``updateListingInventory`` and ``createReceiptShipment``, multipart for
``uploadListingImage``.

Errors raised (and only these): :class:`TransientError`,
:class:`RateLimited`, :class:`AuthFailed`, :class:`PermanentError`.
"""

from __future__ import annotations

import copy
import decimal
import mimetypes
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlparse

import requests

from ..config import get_settings
from ..state import get_redis
from .errors import PermanentError
from .money import money_to_decimal, to_etsy_price
from .pagination import iter_results
from .ratelimit import MAX_RATE_WAIT_SECONDS, RateLimiter
from .transport import NeedsRefresh, Transport

API = "/v3/application"

#: Fields Etsy requires, checked before a call so a mistake costs no quota.
REQUIRED = {
    "createDraftListing": ("quantity", "title", "description", "price", "who_made", "when_made", "taxonomy_id"),
    "createShopShippingProfile": ("title", "origin_country_iso", "primary_cost", "secondary_cost"),
    "createShopShippingProfileDestination": ("primary_cost", "secondary_cost"),
    "createShopReadinessStateDefinition": ("readiness_state", "min_processing_time", "max_processing_time"),
    "createShopReturnPolicy": ("accepts_returns", "accepts_exchanges"),
    "updateListingProperty": ("value_ids", "values"),
}
#: Inventory fields Etsy returns but refuses on PUT.
INVENTORY_READ_ONLY = {"product_id", "offering_id", "is_deleted", "scale_name"}


class EtsyClient:
    """Etsy calls for one shop.

    ``settings``/``redis`` default to the process-wide ones; ``session`` to a
    requests Session per thread. ``tokens`` is the token provider (an object
    with ``access_token()`` and ``refresh(stale)``), injected: without one,
    calls go out without a Bearer token. A shop's stored, encrypted tokens are
    wired in by :func:`etsyflow.shops.shop_client`. ``limiter`` defaults to the
    deployment-wide rate limiter.
    Seconds: ``max_retry_seconds`` bounds a call's in-call retries and waits,
    ``max_rate_wait_seconds`` one wait for a per-second slot.
    """

    def __init__(self, shop_id: int | None, settings=None, redis=None, session: requests.Session | None = None,
                 *, tokens=None, limiter=None, prefix: str = "etsyflow", max_attempts: int = 4,
                 max_retry_seconds: float = 30.0, max_rate_wait_seconds: float = MAX_RATE_WAIT_SECONDS,
                 response_hook: Callable[[str, requests.Response], None] | None = None):
        if settings is None:
            settings = get_settings()
        if redis is None and limiter is None:
            redis = get_redis()
        if limiter is None:
            limiter = RateLimiter(redis, settings, prefix=prefix,
                                  max_wait_seconds=max_rate_wait_seconds)
        self.shop_id = int(shop_id) if shop_id is not None else None
        self.settings = settings
        self.limiter = limiter
        self.transport = Transport(settings, session=session, limiter=limiter, shop_id=self.shop_id,
                                   max_attempts=max_attempts, max_retry_seconds=max_retry_seconds,
                                   max_rate_wait_seconds=max_rate_wait_seconds, response_hook=response_hook)
        self.tokens = tokens

    # -- the one way out -------------------------------------------------------------
    def request(self, operation: str, method: str, path: str, *, params: Mapping | None = None,
                data: Mapping | None = None, json: Any = None, files: Mapping | None = None,
                auth: bool = True, passthrough: tuple[int, ...] = ()) -> requests.Response:
        """Send one operation; refresh-then-retry-once on 401. Returns the response."""
        kwargs: dict[str, Any] = {}
        if params:
            kwargs["params"] = _form(params)
        if data is not None:
            kwargs["data"] = _form(data)
        if json is not None:
            kwargs["json"] = json
        if files is not None:
            kwargs["files"] = files
        bearer = None
        if auth and self.tokens is not None:
            bearer = self.tokens.access_token()
        try:
            return self.transport.send(operation, method, API + path, bearer=bearer,
                                       passthrough=passthrough, **kwargs)
        except NeedsRefresh as first:
            if not (auth and self.tokens is not None):
                raise PermanentError(first.decision.reason, status=first.decision.status,
                                     operation=operation) from None
        bearer = self.tokens.refresh(stale=bearer)
        try:
            return self.transport.send(operation, method, API + path, bearer=bearer,
                                       passthrough=passthrough, **kwargs)
        except NeedsRefresh as second:
            raise PermanentError(f"Etsy rejected a freshly refreshed token: {second.decision.reason}",
                                 status=second.decision.status, operation=operation) from None

    def call(self, operation: str, method: str, path: str, **kwargs) -> Any:
        """:meth:`request` and decode the JSON answer (None for 204)."""
        response = self.request(operation, method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def _shop(self, shop_id: int | None) -> int:
        shop = shop_id if shop_id is not None else self.shop_id
        if shop is None:
            raise PermanentError("this call needs a shop id")
        return int(shop)

    # -- users and shops -------------------------------------------------------------
    def get_me(self) -> dict:
        """``{user_id, shop_id}`` of the token's owner."""
        return self.call("getMe", "GET", "/users/me")

    def get_shop(self, shop_id: int | None = None) -> dict:
        return self.call("getShop", "GET", f"/shops/{self._shop(shop_id)}")

    # -- shipping profiles -----------------------------------------------------------
    def create_shop_shipping_profile(self, fields: Mapping | None = None, **more) -> dict:
        body = _fields("createShopShippingProfile", fields, more)
        return self.call("createShopShippingProfile", "POST", f"/shops/{self._shop(None)}/shipping-profiles",
                         data=body)

    def get_shop_shipping_profiles(self) -> dict:
        return self.call("getShopShippingProfiles", "GET", f"/shops/{self._shop(None)}/shipping-profiles")

    def get_shop_shipping_profile(self, shipping_profile_id: int) -> dict:
        return self.call("getShopShippingProfile", "GET",
                         f"/shops/{self._shop(None)}/shipping-profiles/{int(shipping_profile_id)}")

    def update_shop_shipping_profile(self, shipping_profile_id: int, fields: Mapping | None = None, **more) -> dict:
        return self.call("updateShopShippingProfile", "PUT",
                         f"/shops/{self._shop(None)}/shipping-profiles/{int(shipping_profile_id)}",
                         data=_fields("updateShopShippingProfile", fields, more))

    def delete_shop_shipping_profile(self, shipping_profile_id: int) -> None:
        self.call("deleteShopShippingProfile", "DELETE",
                  f"/shops/{self._shop(None)}/shipping-profiles/{int(shipping_profile_id)}")

    def create_shop_shipping_profile_destination(self, shipping_profile_id: int, fields: Mapping | None = None,
                                                 **more) -> dict:
        return self.call("createShopShippingProfileDestination", "POST",
                         f"/shops/{self._shop(None)}/shipping-profiles/{int(shipping_profile_id)}/destinations",
                         data=_fields("createShopShippingProfileDestination", fields, more))

    def get_shop_shipping_profile_destinations_by_shipping_profile(self, shipping_profile_id: int, *,
                                                                    limit: int = 100, offset: int = 0) -> dict:
        return self.call("getShopShippingProfileDestinationsByShippingProfile", "GET",
                         f"/shops/{self._shop(None)}/shipping-profiles/{int(shipping_profile_id)}/destinations",
                         params={"limit": limit, "offset": offset})

    def iter_shipping_profile_destinations(self, shipping_profile_id: int) -> Iterator[dict]:
        return iter_results(lambda limit, offset: self.get_shop_shipping_profile_destinations_by_shipping_profile(
            shipping_profile_id, limit=limit, offset=offset))

    def update_shop_shipping_profile_destination(self, shipping_profile_id: int, shipping_profile_destination_id: int,
                                                 fields: Mapping | None = None, **more) -> dict:
        return self.call("updateShopShippingProfileDestination", "PUT",
                         f"/shops/{self._shop(None)}/shipping-profiles/{int(shipping_profile_id)}"
                         f"/destinations/{int(shipping_profile_destination_id)}",
                         data=_fields("updateShopShippingProfileDestination", fields, more))

    def delete_shop_shipping_profile_destination(self, shipping_profile_id: int,
                                                 shipping_profile_destination_id: int) -> None:
        self.call("deleteShopShippingProfileDestination", "DELETE",
                  f"/shops/{self._shop(None)}/shipping-profiles/{int(shipping_profile_id)}"
                  f"/destinations/{int(shipping_profile_destination_id)}")

    # -- processing profiles (readiness state definitions) ---------------------------
    def create_shop_readiness_state_definition(self, fields: Mapping | None = None, **more) -> int:
        """Create a processing profile and return its ``readiness_state_id``.

        Etsy answers 409 when an identical one exists, pointing at it in
        ``Content-Location``: that id is returned (no duplicate is made).
        """
        body = _fields("createShopReadinessStateDefinition", fields, more)
        path = f"/shops/{self._shop(None)}/readiness-state-definitions"
        response = self.request("createShopReadinessStateDefinition", "POST", path, data=body,
                                passthrough=(409,))
        if response.status_code != 409:
            return int(response.json()["readiness_state_id"])
        location = response.headers.get("Content-Location", "")
        last = urlparse(location).path.rstrip("/").rsplit("/", 1)[-1]
        if last.isdigit():
            return int(last)
        for existing in iter_results(lambda limit, offset: self.get_shop_readiness_state_definitions(
                limit=limit, offset=offset)):
            if existing.get("readiness_state") == body.get("readiness_state") and \
                    existing.get("min_processing_days") == _int(body.get("min_processing_time")) and \
                    existing.get("max_processing_days") == _int(body.get("max_processing_time")):
                return int(existing["readiness_state_id"])
        raise PermanentError("Etsy says this processing profile exists but does not say which one",
                             status=409, operation="createShopReadinessStateDefinition")

    def get_shop_readiness_state_definitions(self, *, limit: int = 100, offset: int = 0) -> dict:
        return self.call("getShopReadinessStateDefinitions", "GET",
                         f"/shops/{self._shop(None)}/readiness-state-definitions",
                         params={"limit": limit, "offset": offset})

    # -- return policies -------------------------------------------------------------
    def get_shop_return_policies(self) -> dict:
        return self.call("getShopReturnPolicies", "GET", f"/shops/{self._shop(None)}/policies/return")

    def create_shop_return_policy(self, fields: Mapping | None = None, **more) -> dict:
        return self.call("createShopReturnPolicy", "POST", f"/shops/{self._shop(None)}/policies/return",
                         data=_fields("createShopReturnPolicy", fields, more))

    # -- taxonomy --------------------------------------------------------------------
    def get_seller_taxonomy_nodes(self) -> dict:
        return self.call("getSellerTaxonomyNodes", "GET", "/seller-taxonomy/nodes")

    def get_properties_by_taxonomy_id(self, taxonomy_id: int) -> dict:
        return self.call("getPropertiesByTaxonomyId", "GET", f"/seller-taxonomy/nodes/{int(taxonomy_id)}/properties")

    # -- listings --------------------------------------------------------------------
    def create_draft_listing(self, fields: Mapping | None = None, **more) -> dict:
        body = _listing_fields(_fields("createDraftListing", fields, more))
        return self.call("createDraftListing", "POST", f"/shops/{self._shop(None)}/listings", data=body)

    def get_listing(self, listing_id: int, *, includes: list[str] | None = None) -> dict:
        return self.call("getListing", "GET", f"/listings/{int(listing_id)}",
                         params={"includes": includes} if includes else None)

    def update_listing(self, listing_id: int, fields: Mapping | None = None, **more) -> dict:
        """PATCH the listing (``state="active"`` publishes it). An empty ``image_ids`` is dropped (etsy/open-api#357)."""
        body = _listing_fields(_fields("updateListing", fields, more))
        return self.call("updateListing", "PATCH", f"/shops/{self._shop(None)}/listings/{int(listing_id)}",
                         data=body)

    def delete_listing(self, listing_id: int) -> None:
        self.call("deleteListing", "DELETE", f"/listings/{int(listing_id)}")

    def get_listings_by_shop(self, *, state: str | None = None, limit: int = 100, offset: int = 0,
                             includes: list[str] | None = None, **params) -> dict:
        query = {"state": state, "limit": limit, "offset": offset, "includes": includes, **params}
        return self.call("getListingsByShop", "GET", f"/shops/{self._shop(None)}/listings", params=query)

    # -- images ----------------------------------------------------------------------
    def get_listing_images(self, listing_id: int) -> dict:
        return self.call("getListingImages", "GET", f"/listings/{int(listing_id)}/images")

    def upload_listing_image(self, listing_id: int, image: bytes, *, filename: str = "image.jpg",
                             content_type: str | None = None, rank: int | None = None,
                             alt_text: str | None = None, overwrite: bool | None = None,
                             is_watermarked: bool | None = None) -> dict:
        """Upload ONE image (multipart field ``image``). Upload images one at a time, in rank order (etsy/open-api#298)."""
        if not image:
            raise PermanentError("image is empty", operation="uploadListingImage")
        if alt_text is not None and len(alt_text) > 500:
            raise PermanentError("alt_text is longer than 500 characters", operation="uploadListingImage")
        content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        data = {"rank": rank, "alt_text": alt_text, "overwrite": overwrite, "is_watermarked": is_watermarked}
        return self.call("uploadListingImage", "POST",
                         f"/shops/{self._shop(None)}/listings/{int(listing_id)}/images",
                         data={k: v for k, v in data.items() if v is not None},
                         files={"image": (filename, image, content_type)})

    def rank_listing_image(self, listing_id: int, listing_image_id: int, rank: int) -> dict:
        """Move an image already on the listing to ``rank``: ``uploadListingImage`` with its
        ``listing_image_id`` and no file (multipart, as the operation is). Idempotent."""
        return self.call("uploadListingImage", "POST", f"/shops/{self._shop(None)}/listings/{int(listing_id)}/images",
                         files={"listing_image_id": (None, str(int(listing_image_id))), "rank": (None, str(int(rank)))})

    def delete_listing_image(self, listing_id: int, listing_image_id: int) -> None:
        self.call("deleteListingImage", "DELETE",
                  f"/shops/{self._shop(None)}/listings/{int(listing_id)}/images/{int(listing_image_id)}")

    # -- inventory -------------------------------------------------------------------
    def get_listing_inventory(self, listing_id: int, *, show_deleted: bool | None = None) -> dict:
        return self.call("getListingInventory", "GET", f"/listings/{int(listing_id)}/inventory",
                         params={"show_deleted": show_deleted})

    def update_listing_inventory(self, listing_id: int, inventory: Mapping) -> dict:
        """Replace the WHOLE inventory (every product, every time; etsy/open-api#134).

        Accepts what :meth:`get_listing_inventory` returned, changed: the
        fields Etsy refuses on write (``product_id``, ``offering_id``,
        ``is_deleted``, ``scale_name``) are removed, deleted products and
        offerings dropped, and offering prices sent as floats.
        """
        body = inventory_for_update(inventory)
        return self.call("updateListingInventory", "PUT", f"/listings/{int(listing_id)}/inventory", json=body)

    # -- properties (item specifics) -------------------------------------------------
    def get_listing_properties(self, listing_id: int) -> dict:
        return self.call("getListingProperties", "GET",
                         f"/shops/{self._shop(None)}/listings/{int(listing_id)}/properties")

    def update_listing_property(self, listing_id: int, property_id: int, *, value_ids: list[int],
                                values: list[str], scale_id: int | None = None) -> dict:
        body = _fields("updateListingProperty", {"value_ids": list(value_ids), "values": list(values),
                                                 "scale_id": scale_id}, {})
        return self.call("updateListingProperty", "PUT",
                         f"/shops/{self._shop(None)}/listings/{int(listing_id)}/properties/{int(property_id)}",
                         data=body)

    def delete_listing_property(self, listing_id: int, property_id: int) -> None:
        self.call("deleteListingProperty", "DELETE",
                  f"/shops/{self._shop(None)}/listings/{int(listing_id)}/properties/{int(property_id)}")

    # -- receipts --------------------------------------------------------------------
    def get_shop_receipts(self, *, min_created: int | None = None, max_created: int | None = None,
                          min_last_modified: int | None = None, max_last_modified: int | None = None,
                          limit: int = 100, offset: int = 0, sort_on: str | None = None,
                          sort_order: str | None = None, was_paid: bool | None = None,
                          was_shipped: bool | None = None, was_delivered: bool | None = None,
                          was_canceled: bool | None = None) -> dict:
        """One page ``{count, results}`` of receipts (transactions, shipments, refunds embedded).
        Times are epoch seconds; ``limit`` 1-100."""
        if not 1 <= int(limit) <= 100:
            raise PermanentError(f"limit must be 1-100, got {limit}", operation="getShopReceipts")
        params = {"min_created": min_created, "max_created": max_created,
                  "min_last_modified": min_last_modified, "max_last_modified": max_last_modified,
                  "limit": limit, "offset": offset, "sort_on": sort_on, "sort_order": sort_order,
                  "was_paid": was_paid, "was_shipped": was_shipped, "was_delivered": was_delivered,
                  "was_canceled": was_canceled}
        return self.call("getShopReceipts", "GET", f"/shops/{self._shop(None)}/receipts", params=params)

    def iter_shop_receipts(self, **filters) -> Iterator[dict]:
        """Every receipt matching ``filters`` (as :meth:`get_shop_receipts`), 100 per call."""
        filters.pop("limit", None)
        filters.pop("offset", None)
        return iter_results(lambda limit, offset: self.get_shop_receipts(limit=limit, offset=offset, **filters))

    def get_shop_receipt(self, receipt_id: int) -> dict:
        return self.call("getShopReceipt", "GET", f"/shops/{self._shop(None)}/receipts/{int(receipt_id)}")

    def create_receipt_shipment(self, receipt_id: int, *, tracking_code: str | None = None,
                                carrier_name: str | None = None, send_bcc: bool | None = None,
                                note_to_buyer: str | None = None, ship_date: str | None = None,
                                **label_fields) -> dict:
        """Submit tracking (JSON body). Each call adds a shipment and emails the buyer: never repeat one."""
        body = {"tracking_code": tracking_code, "carrier_name": carrier_name, "send_bcc": send_bcc,
                "note_to_buyer": note_to_buyer, "ship_date": ship_date, **label_fields}
        body = {k: _json_value(v) for k, v in body.items() if v is not None}
        return self.call("createReceiptShipment", "POST",
                         f"/shops/{self._shop(None)}/receipts/{int(receipt_id)}/tracking", json=body)


# -- body helpers --------------------------------------------------------------------
def inventory_for_update(inventory: Mapping) -> dict:
    """A getListingInventory answer (or the same shape) -> the updateListingInventory body."""
    source = copy.deepcopy(dict(inventory))
    products = []
    for product in source.get("products") or []:
        if product.get("is_deleted"):
            continue
        clean = {k: v for k, v in product.items() if k not in INVENTORY_READ_ONLY}
        clean["property_values"] = [
            {k: v for k, v in pv.items() if k not in INVENTORY_READ_ONLY}
            for pv in product.get("property_values") or []
        ]
        offerings = []
        for offering in product.get("offerings") or []:
            if offering.get("is_deleted"):
                continue
            o = {k: v for k, v in offering.items() if k not in INVENTORY_READ_ONLY}
            o["price"] = _offering_price(o.get("price"))
            offerings.append(o)
        clean["offerings"] = offerings
        products.append(clean)
    if not products:
        raise PermanentError("inventory has no products: Etsy replaces the whole inventory, so at least "
                             "one product is required", operation="updateListingInventory")
    body: dict[str, Any] = {"products": products}
    for key in ("price_on_property", "quantity_on_property", "sku_on_property", "readiness_state_on_property"):
        if source.get(key) is not None:
            body[key] = [int(v) for v in source[key]]
    return body


def _offering_price(price) -> float:
    if isinstance(price, Mapping):  # a Money object read back from Etsy
        price = money_to_decimal(price)
    if isinstance(price, float):
        return price
    return to_etsy_price(price)


def _fields(operation: str, fields: Mapping | None, more: Mapping) -> dict:
    body = {**(fields or {}), **more}
    body = {k: v for k, v in body.items() if v is not None}
    missing = [name for name in REQUIRED.get(operation, ()) if name not in body]
    if missing:
        raise PermanentError(f"missing required field(s): {', '.join(missing)}", operation=operation)
    return body


def _listing_fields(body: dict) -> dict:
    if "image_ids" in body and not body["image_ids"]:
        del body["image_ids"]  # an empty list fails on Etsy; omitting it keeps the images (etsy/open-api#357, etsy/open-api#425)
    if "price" in body and not isinstance(body["price"], float):
        body["price"] = to_etsy_price(body["price"])
    return body


def _form(values: Mapping) -> dict:
    """Etsy's form and query encoding: drop None, booleans as true/false, lists as repeated fields."""
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            out[key] = [_scalar(v) for v in value]
        else:
            out[key] = _scalar(value)
    return out


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _json_value(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
