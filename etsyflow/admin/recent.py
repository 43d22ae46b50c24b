"""Recent events and events per minute, for the operations page.

:class:`EventRecorder` subscribes to the bus (every type) from the console
process and keeps, in Redis:

    etsyflow:admin:events          LIST  newest first, at most :data:`KEEP` summaries
                                         {id, type, source, time, shop_id, direction, reason?}
    etsyflow:admin:epm:<minute>    HASH  in / out counts for that minute (epoch minute), 2 h TTL
    etsyflow:admin:seen:<id>       STR   an event already counted (several consoles, one count), 1 h

"in" is an event from outside (the back office, a webhook relay…); "out" one
etsyflow published (``source`` starting with ``etsyflow``). Summaries keep ids
and types only, never an event's whole data; a ``reason`` is scrubbed and cut.
Events are counted while a console runs.
"""

from __future__ import annotations

import json
import threading
import time

from ..config.logging import get_logger, redact
from ..messages.tail import EventTail

EVENTS_KEY = "etsyflow:admin:events"
KEEP = 500
EPM_TTL_SECONDS = 7200
SEEN_TTL_SECONDS = 3600
#: Longest reason kept in a summary (characters).
REASON_CHARS = 200
#: Pause before re-subscribing after the bus connection failed (seconds).
RESUBSCRIBE_SECONDS = 5.0

log = get_logger("etsyflow.admin")


def _minute_key(minute: int) -> str:
    return f"etsyflow:admin:epm:{minute}"


def summary(event: dict) -> dict:
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    source = str(event.get("source") or "")
    out = {"id": str(event.get("id") or ""), "type": str(event.get("type") or "(undecodable)"), "source": source,
           "time": str(event.get("time") or ""), "shop_id": data.get("shop_id") if isinstance(
               data.get("shop_id"), (int, str)) else None,
           "direction": "out" if source.startswith("etsyflow") else "in"}
    reason = data.get("reason")
    if isinstance(reason, str) and reason:
        reason = redact(None, None, {"text": reason})["text"]
        out["reason"] = reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"
    return out


def record(redis, event: dict, *, now: float | None = None) -> bool:
    """Keep one event's summary and count it; False when another console already did."""
    item = summary(event)
    if item["id"] and not redis.set(f"etsyflow:admin:seen:{item['id']}", b"1", nx=True, ex=SEEN_TTL_SECONDS):
        return False
    minute = int((time.time() if now is None else now) // 60)
    pipe = redis.pipeline(transaction=True)
    pipe.lpush(EVENTS_KEY, json.dumps(item))
    pipe.ltrim(EVENTS_KEY, 0, KEEP - 1)
    pipe.hincrby(_minute_key(minute), item["direction"], 1)
    pipe.expire(_minute_key(minute), EPM_TTL_SECONDS)
    pipe.execute()
    return True


def latest(redis, *, event_type: str | None = None, shop_id: str | None = None, limit: int = 100,
           after: str | None = None) -> list[dict]:
    """Newest first, filtered; ``after``: only events newer than the one with this id."""
    found = []
    for raw in redis.lrange(EVENTS_KEY, 0, KEEP - 1):
        item = json.loads(raw)
        if after and item["id"] == after:
            break
        if event_type and item["type"] != event_type:
            continue
        if shop_id and str(item.get("shop_id")) != str(shop_id):
            continue
        found.append(item)
        if len(found) >= limit:
            break
    return found


def types_seen(redis) -> list[str]:
    return sorted({json.loads(raw)["type"] for raw in redis.lrange(EVENTS_KEY, 0, KEEP - 1)})


def per_minute(redis, minutes: int = 60, *, now: float | None = None) -> list[tuple[float, int, int]]:
    """(minute start epoch s, in, out) for the last ``minutes`` minutes, oldest first."""
    last = int((time.time() if now is None else now) // 60)
    pipe = redis.pipeline(transaction=False)
    for minute in range(last - minutes + 1, last + 1):
        pipe.hmget(_minute_key(minute), "in", "out")
    rows = []
    for minute, (inbound, outbound) in zip(range(last - minutes + 1, last + 1), pipe.execute()):
        rows.append((minute * 60.0, int(inbound or 0), int(outbound or 0)))
    return rows


class EventRecorder:
    """Subscribes to every event on the bus and records it; re-subscribes after a failure."""

    def __init__(self, redis):
        self.redis = redis
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "EventRecorder":
        self._thread = threading.Thread(target=self._run, name="etsyflow-admin-events", daemon=True)
        self._thread.start()
        return self

    def _on_event(self, event: dict) -> None:
        try:
            record(self.redis, event)
        except Exception as error:  # Redis trouble: the event is only not shown
            log.warning("admin_event_not_recorded", error=str(error))

    def _run(self) -> None:
        while not self._stop.is_set():
            tail = EventTail(on_event=self._on_event, keep=0)
            try:
                tail.start()
                while not self._stop.wait(1.0) and tail.alive:
                    pass
            except Exception as error:
                log.warning("admin_event_tail_failed", error=str(error))
            finally:
                tail.stop()
            self._stop.wait(RESUBSCRIBE_SECONDS)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
