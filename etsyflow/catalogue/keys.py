"""Every Redis key the catalogue writes (prefix ``etsyflow``), in one place.

=============================================  ======  ==================================================
key                                            type    holds
=============================================  ======  ==================================================
``etsyflow:tpl:<shop>:<template_id>``          HASH    shipping_profile_id, readiness_state_id,
                                                       destinations (JSON key → destination id),
                                                       fingerprint, status (creating/linked), intent_at
``etsyflow:tpl-profile:<shop>:<profile_id>``   STRING  template_id owning an Etsy shipping profile
``etsyflow:listing:<shop>:<product_id>``       HASH    listing_id, status (creating/linked), state,
                                                       fp:fields / fp:properties (fingerprints),
                                                       images (JSON [{key, id}]), image_intent,
                                                       inventory (JSON: the matrix Etsy holds),
                                                       properties (JSON), template_id, desired_state,
                                                       held (JSON: matrix waiting for stock),
                                                       stock_inactive, create_form_fp, intent_at
``etsyflow:listing-owner:<shop>:<listing_id>`` STRING  product_id that owns an Etsy listing (claim)
``etsyflow:sku:<shop>``                        HASH    sku → JSON {listing_id, product_id}
``etsyflow:products:<shop>``                   HASH    product_id → JSON [SKUs] of every product seen in a
                                                       ListingReady (the upstream side of linking)
``etsyflow:sku-ambiguous:<shop>``              HASH    sku → JSON [listing ids]: a SKU on two Etsy listings
``etsyflow:discovered:<shop>``                 SET     listing ids announced as ListingDiscovered
``etsyflow:listing-sync:<shop>``               HASH    the last listings sync: status, read, total, calls,
                                                       started_at, finished_at and its counts
``etsyflow:lock:listing-sync:<shop>``          STRING  one listings sync per shop at a time
``etsyflow:listing-written:<shop>``            STRING  when a listing record of the shop was last written
                                                       (epoch seconds; the admin console shows it)
``etsyflow:taxonomy-props:<taxonomy_id>``      STRING  JSON properties of a category (TTL)
``etsyflow:return-policy:<shop>``              STRING  return_policy_id used for new listings (TTL)
``etsyflow:shop-info:<shop>``                  STRING  JSON {country, currency} of the shop (TTL)
``etsyflow:lock:listing:<shop>:<product_id>``  STRING  per-product lock (redis-py Lock)
``etsyflow:lock:tpl:<shop>:<template_id>``     STRING  per-template lock
``<cache key>:fill``                            STRING  one worker fills a cache at a time
=============================================  ======  ==================================================

Upstream ids can hold any character; they are used as given (Redis keys are
binary safe) after the shop id, which is always an integer.
"""

from __future__ import annotations

P = "etsyflow"


def template(shop_id: int, template_id: str) -> str:
    return f"{P}:tpl:{int(shop_id)}:{template_id}"


def profile_owner(shop_id: int, profile_id: int) -> str:
    return f"{P}:tpl-profile:{int(shop_id)}:{int(profile_id)}"


def listing(shop_id: int, product_id: str) -> str:
    return f"{P}:listing:{int(shop_id)}:{product_id}"


def listing_written(shop_id: int) -> str:
    return f"{P}:listing-written:{int(shop_id)}"


def listing_owner(shop_id: int, listing_id: int) -> str:
    return f"{P}:listing-owner:{int(shop_id)}:{int(listing_id)}"


def sku_index(shop_id: int) -> str:
    return f"{P}:sku:{int(shop_id)}"


def taxonomy_properties(taxonomy_id: int) -> str:
    return f"{P}:taxonomy-props:{int(taxonomy_id)}"


def return_policy(shop_id: int) -> str:
    return f"{P}:return-policy:{int(shop_id)}"


def shop_info(shop_id: int) -> str:
    return f"{P}:shop-info:{int(shop_id)}"


def listing_lock(shop_id: int, product_id: str) -> str:
    return f"{P}:lock:listing:{int(shop_id)}:{product_id}"


def template_lock(shop_id: int, template_id: str) -> str:
    return f"{P}:lock:tpl:{int(shop_id)}:{template_id}"



def products(shop_id: int) -> str:
    return f"{P}:products:{int(shop_id)}"


def sku_ambiguous(shop_id: int) -> str:
    return f"{P}:sku-ambiguous:{int(shop_id)}"


def discovered(shop_id: int) -> str:
    return f"{P}:discovered:{int(shop_id)}"


def listing_sync(shop_id: int) -> str:
    return f"{P}:listing-sync:{int(shop_id)}"


def listing_sync_lock(shop_id: int) -> str:
    return f"{P}:lock:listing-sync:{int(shop_id)}"
