"""Redis-backed state: connection, id links, cursors and idempotency records."""

from .connection import get_redis, reset_redis

__all__ = ["get_redis", "reset_redis"]
