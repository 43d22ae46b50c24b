"""The Etsy operations the sandbox keeps state for: operationId, method, path, OAuth
scope (None: the api key alone), copied from Etsy's OpenAPI document. The app
routes every other operation of the document too (``ops_more`` or ``generic``)."""

from __future__ import annotations

from . import ops_listings, ops_more, ops_receipts, ops_shop

ROUTES = [
    ("getMe", "GET", "/v3/application/users/me", "shops_r"),
    ("getShop", "GET", "/v3/application/shops/{shop_id}", None),
    ("ping", "GET", "/v3/application/openapi-ping", None),
    ("createShopShippingProfile", "POST", "/v3/application/shops/{shop_id}/shipping-profiles", "shops_w"),
    ("getShopShippingProfiles", "GET", "/v3/application/shops/{shop_id}/shipping-profiles", "shops_r"),
    ("getShopShippingProfile", "GET", "/v3/application/shops/{shop_id}/shipping-profiles/{shipping_profile_id}", "shops_r"),
    ("updateShopShippingProfile", "PUT", "/v3/application/shops/{shop_id}/shipping-profiles/{shipping_profile_id}", "shops_w"),
    ("deleteShopShippingProfile", "DELETE", "/v3/application/shops/{shop_id}/shipping-profiles/{shipping_profile_id}", "shops_w"),
    ("createShopShippingProfileDestination", "POST", "/v3/application/shops/{shop_id}/shipping-profiles/{shipping_profile_id}/destinations", "shops_w"),
    ("getShopShippingProfileDestinationsByShippingProfile", "GET", "/v3/application/shops/{shop_id}/shipping-profiles/{shipping_profile_id}/destinations", "shops_r"),
    ("updateShopShippingProfileDestination", "PUT", "/v3/application/shops/{shop_id}/shipping-profiles/{shipping_profile_id}/destinations/{shipping_profile_destination_id}", "shops_w"),
    ("deleteShopShippingProfileDestination", "DELETE", "/v3/application/shops/{shop_id}/shipping-profiles/{shipping_profile_id}/destinations/{shipping_profile_destination_id}", "shops_w"),
    ("createShopReadinessStateDefinition", "POST", "/v3/application/shops/{shop_id}/readiness-state-definitions", "shops_w"),
    ("getShopReadinessStateDefinitions", "GET", "/v3/application/shops/{shop_id}/readiness-state-definitions", "shops_r"),
    ("getShopReadinessStateDefinition", "GET", "/v3/application/shops/{shop_id}/readiness-state-definitions/{readiness_state_definition_id}", "shops_r"),
    ("updateShopReadinessStateDefinition", "PUT", "/v3/application/shops/{shop_id}/readiness-state-definitions/{readiness_state_definition_id}", "shops_w"),
    ("deleteShopReadinessStateDefinition", "DELETE", "/v3/application/shops/{shop_id}/readiness-state-definitions/{readiness_state_definition_id}", "shops_w"),
    ("getShopReturnPolicies", "GET", "/v3/application/shops/{shop_id}/policies/return", None),
    ("createShopReturnPolicy", "POST", "/v3/application/shops/{shop_id}/policies/return", "shops_w"),
    ("getShopReturnPolicy", "GET", "/v3/application/shops/{shop_id}/policies/return/{return_policy_id}", None),
    ("getSellerTaxonomyNodes", "GET", "/v3/application/seller-taxonomy/nodes", None),
    ("getPropertiesByTaxonomyId", "GET", "/v3/application/seller-taxonomy/nodes/{taxonomy_id}/properties", None),
    ("createDraftListing", "POST", "/v3/application/shops/{shop_id}/listings", "listings_w"),
    ("getListingsByShop", "GET", "/v3/application/shops/{shop_id}/listings", "listings_r"),
    ("getListing", "GET", "/v3/application/listings/{listing_id}", None),
    ("updateListing", "PATCH", "/v3/application/shops/{shop_id}/listings/{listing_id}", "listings_w"),
    ("deleteListing", "DELETE", "/v3/application/listings/{listing_id}", "listings_d"),
    ("getListingImages", "GET", "/v3/application/listings/{listing_id}/images", None),
    ("getListingImage", "GET", "/v3/application/listings/{listing_id}/images/{listing_image_id}", None),
    ("uploadListingImage", "POST", "/v3/application/shops/{shop_id}/listings/{listing_id}/images", "listings_w"),
    ("deleteListingImage", "DELETE", "/v3/application/shops/{shop_id}/listings/{listing_id}/images/{listing_image_id}", "listings_w"),
    ("getListingInventory", "GET", "/v3/application/listings/{listing_id}/inventory", "listings_r"),
    ("updateListingInventory", "PUT", "/v3/application/listings/{listing_id}/inventory", "listings_w"),
    ("getListingProperties", "GET", "/v3/application/shops/{shop_id}/listings/{listing_id}/properties", None),
    ("updateListingProperty", "PUT", "/v3/application/shops/{shop_id}/listings/{listing_id}/properties/{property_id}", "listings_w"),
    ("deleteListingProperty", "DELETE", "/v3/application/shops/{shop_id}/listings/{listing_id}/properties/{property_id}", "listings_w"),
    ("getShopReceipts", "GET", "/v3/application/shops/{shop_id}/receipts", "transactions_r"),
    ("getShopReceipt", "GET", "/v3/application/shops/{shop_id}/receipts/{receipt_id}", "transactions_r"),
    ("updateShopReceipt", "PUT", "/v3/application/shops/{shop_id}/receipts/{receipt_id}", "transactions_w"),
    ("createReceiptShipment", "POST", "/v3/application/shops/{shop_id}/receipts/{receipt_id}/tracking", "transactions_w"),
]

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def handler_for(operation_id: str):
    for module in (ops_shop, ops_listings, ops_receipts, ops_more):
        handler = getattr(module, operation_id, None)
        if handler is not None:
            return handler
    return None


def werkzeug_path(path: str) -> str:
    return path.replace("{", "<").replace("}", ">")
