"""Event types, the CloudEvents envelope and publishing to the bus."""

from .envelope import CloudEvent, utcnow
from .publish import add_listener, publish, publish_raw, reset_publisher
from .types import INBOUND, OUTBOUND, EventType

__all__ = ["CloudEvent", "EventType", "INBOUND", "OUTBOUND", "add_listener", "publish",
           "publish_raw", "reset_publisher", "utcnow"]
