"""Watch events pass on the bus: ``etsyflow events tail``, the demo timeline, tests.

:class:`EventTail` binds an exclusive queue (all types, or the ones given),
collects every event in a background thread and lets callers wait, with a
timeout, for the events they expect.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Callable

from ..config.logging import get_logger
from .bus import connection, tail_queue

log = get_logger("etsyflow.tail")

# How long one drain_events call blocks (seconds) before checking for stop.
POLL_SECONDS = 0.2


class EventTail:
    """Collects events from the bus; use as a context manager."""

    def __init__(self, types: list[str] | None = None, *, on_event: Callable[[dict], None] | None = None,
                 url: str | None = None):
        self.types = types
        self.on_event = on_event
        self.url = url
        self.events: list[dict] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> "EventTail":
        self._thread = threading.Thread(target=self._run, name="etsyflow-tail", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"event tail not ready within {timeout} s: {self._error}")
        return self

    def _run(self) -> None:
        try:
            with connection(self.url) as conn:
                queue = tail_queue(self.types)
                with conn.Consumer(queues=[queue], on_message=self._on_message, no_ack=True):
                    self._ready.set()
                    while not self._stop.is_set():
                        try:
                            conn.drain_events(timeout=POLL_SECONDS)
                        except socket.timeout:
                            continue
                        except TimeoutError:
                            continue
        except BaseException as error:  # surfaced through wait_for / start
            self._error = error
            self._ready.set()
            log.error("event tail stopped", error=str(error))

    def _on_message(self, message) -> None:
        try:
            event = json.loads(message.body)
        except (ValueError, UnicodeDecodeError):
            event = {"type": None, "undecodable": True, "body": repr(message.body[:200])}
        if not isinstance(event, dict):
            event = {"type": None, "body": event}
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()
        if self.on_event is not None:
            self.on_event(event)

    def of_type(self, event_type: str, predicate: Callable[[dict], bool] | None = None) -> list[dict]:
        with self._cond:
            return [e for e in self.events if e.get("type") == event_type and (predicate is None or predicate(e))]

    def wait_for(self, event_type: str, predicate: Callable[[dict], bool] | None = None, *, count: int = 1,
                 timeout: float = 10.0) -> list[dict]:
        """Wait until ``count`` events of ``event_type`` (matching ``predicate``) arrived.

        Raises :class:`TimeoutError` after ``timeout`` seconds, naming what did arrive.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self.events
                         if e.get("type") == event_type and (predicate is None or predicate(e))]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._error is not None:
                    seen = [e.get("type") for e in self.events]
                    raise TimeoutError(f"waited {timeout} s for {count} × {event_type}, got {len(found)}; "
                                       f"seen: {seen[-30:]}; error: {self._error}")
                self._cond.wait(min(remaining, 0.5))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> "EventTail":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def format_line(event: dict) -> str:
    """One readable line for a passing event."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    keys = ("shop_id", "product_id", "listing_id", "template_id", "sku", "quantity", "receipt_id",
            "tracking_number", "state", "reason")
    parts = [f"{k}={data[k]}" for k in keys if data.get(k) not in (None, "")]
    if isinstance(data.get("order"), dict):
        parts.append(f"receipt_id={data['order'].get('receipt_id')}")
    if data.get("changes"):
        parts.append(f"changes={','.join(map(str, data['changes']))}")
    if data.get("errors"):
        parts.append("errors=" + "; ".join(f"{e.get('field')}: {e.get('message')}" for e in data["errors"][:3]))
    when = str(event.get("time", ""))[11:23]
    return f"{when}  {str(event.get('type')):<24} {str(event.get('source')):<10} {' '.join(parts)}"
