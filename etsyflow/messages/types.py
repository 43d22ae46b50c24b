"""The event types of the public contract (the inbound ones and how each is
handled: :mod:`.contract`)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    # Inbound: published by upstream systems (and the scheduler).
    DELIVERY_TEMPLATE_READY = "DeliveryTemplateReady"
    LISTING_READY = "ListingReady"
    STOCK_CHANGED = "StockChanged"
    ORDERS_POLL_TICK = "OrdersPollTick"
    ORDER_SHIPPED = "OrderShipped"
    # Follow-ups: published by etsyflow.
    DELIVERY_TEMPLATE_SYNCED = "DeliveryTemplateSynced"
    LISTING_PUBLISHED = "ListingPublished"
    LISTING_REJECTED = "ListingRejected"
    STOCK_UPDATED = "StockUpdated"
    STOCK_REJECTED = "StockRejected"
    ORDER_DOWNLOADED = "OrderDownloaded"
    ORDER_UPDATED = "OrderUpdated"
    SHIPMENT_CONFIRMED = "ShipmentConfirmed"
    SHIPMENT_REJECTED = "ShipmentRejected"
    EVENT_REJECTED = "EventRejected"
    SHOP_AUTH_FAILED = "ShopAuthFailed"
