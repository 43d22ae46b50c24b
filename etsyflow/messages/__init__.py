"""Event types, the inbound contract table, the CloudEvents envelope, publishing
to the bus, and the outcome exceptions domain code raises."""

from .contract import CONTRACT, INBOUND, OUTBOUND, QUEUES, REJECTIONS, Inbound, entry_for, rejection_data
from .envelope import CloudEvent, utcnow
from .outcomes import Refused, RetryLater
from .publish import add_listener, publish, publish_raw, reset_publisher
from .types import EventType

__all__ = ["CONTRACT", "CloudEvent", "EventType", "INBOUND", "Inbound", "OUTBOUND", "QUEUES", "REJECTIONS",
           "Refused", "RetryLater", "add_listener", "entry_for", "publish", "publish_raw", "rejection_data",
           "reset_publisher", "utcnow"]
