"""The audit log: every administrator action, who, when, what — never a secret.

    etsyflow:admin:audit   LIST  newest first, JSON {at (epoch s), who, action, detail, address}

Bounded to :data:`KEEP` entries. ``detail`` is built by the console from
ids, names and on/off values only; it is passed through the log redactor too.
"""

from __future__ import annotations

import json
import time

from ..config.logging import get_logger, redact

AUDIT_KEY = "etsyflow:admin:audit"
KEEP = 5000

log = get_logger("etsyflow.admin.audit")


def record(redis, who: str | None, action: str, detail: str = "", *, address: str | None = None) -> dict:
    detail = redact(None, None, {"text": detail})["text"]
    entry = {"at": time.time(), "who": who or "-", "action": action, "detail": detail, "address": address}
    pipe = redis.pipeline(transaction=True)
    pipe.lpush(AUDIT_KEY, json.dumps(entry))
    pipe.ltrim(AUDIT_KEY, 0, KEEP - 1)
    pipe.execute()
    log.info("admin_action", who=entry["who"], action=action, detail=detail, address=address)
    return entry


def recent(redis, limit: int = 200) -> list[dict]:
    return [json.loads(raw) for raw in redis.lrange(AUDIT_KEY, 0, max(0, limit - 1))]
