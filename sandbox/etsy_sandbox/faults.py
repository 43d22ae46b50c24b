"""Fault injection: rules that make chosen calls fail the way Etsy or the network does.

A rule::

    {"operation": "getShopReceipts" | "*" | "oauthToken", "kind": "status" | "delay" | "drop",
     "when": "before" | "after", "status": 503, "body": {...}, "headers": {...},
     "delay_seconds": 30, "probability": 1.0, "times": 3}

``when="before"``: the call fails without touching state. ``when="after"``: the
call is carried out first (only if it succeeded) and then fails: an injected
status replaces the real answer, a delay holds the real answer (or the injected
status) back, a drop closes the connection — the "timeout after success" case.
``times`` (the next N matching calls) and ``probability`` combine; a rule with
neither fires on every matching call until removed.
"""

from __future__ import annotations

import random
import threading

KINDS = ("status", "delay", "drop")
WHEN = ("before", "after")


class FaultError(ValueError):
    pass


def validate_rule(raw: dict, max_delay: float) -> dict:
    if not isinstance(raw, dict):
        raise FaultError("a fault rule must be a JSON object")
    known = {"operation", "kind", "when", "status", "body", "headers", "delay_seconds", "probability", "times",
             "shop_id"}
    unknown = set(raw) - known
    if unknown:
        raise FaultError(f"unknown field(s): {', '.join(sorted(unknown))}")
    operation = raw.get("operation", "*")
    if isinstance(operation, str):
        operations = [operation]
    elif isinstance(operation, list) and operation and all(isinstance(o, str) for o in operation):
        operations = operation
    else:
        raise FaultError("operation must be an operationId, '*', or a list of operationIds")
    kind = raw.get("kind", "status")
    if kind not in KINDS:
        raise FaultError(f"kind must be one of {', '.join(KINDS)}")
    when = raw.get("when", "before")
    if when not in WHEN:
        raise FaultError("when must be 'before' or 'after'")
    status = raw.get("status")
    if kind == "status" and status is None:
        status = 500
    if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
        raise FaultError("status must be an HTTP status code")
    delay = raw.get("delay_seconds", 0)
    if not isinstance(delay, (int, float)) or delay < 0:
        raise FaultError("delay_seconds must be a number >= 0")
    if kind == "delay" and not delay:
        raise FaultError("a delay rule needs delay_seconds > 0")
    delay = min(float(delay), max_delay)
    probability = raw.get("probability", 1.0)
    if not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
        raise FaultError("probability must be between 0 and 1")
    times = raw.get("times")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise FaultError("times must be a whole number >= 1")
    body = raw.get("body")
    if body is not None and not isinstance(body, (dict, list, str)):
        raise FaultError("body must be JSON")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, (str, int)) for v in headers.values()):
        raise FaultError("headers must be an object of strings")
    shop_id = raw.get("shop_id")
    if shop_id is not None and not isinstance(shop_id, int):
        raise FaultError("shop_id must be an integer")
    if status == 429 and not any(k.lower() == "retry-after" for k in headers):
        headers = {**headers, "retry-after": "1"}
    if body is None and status is not None:
        body = {"error": _default_message(status)}
    return {"operations": operations, "kind": kind, "when": when, "status": status, "body": body,
            "headers": {k: str(v) for k, v in headers.items()}, "delay_seconds": delay,
            "probability": float(probability), "times": times, "shop_id": shop_id, "hits": 0}


def _default_message(status: int) -> str:
    return {429: "Exceeded per second rate limit", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout", 400: "Bad Request",
            401: "invalid_token"}.get(status, f"sandbox fault {status}")


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules: list[dict] = []
        self._next = 1
        self._random = random.Random()

    def add(self, rule: dict) -> dict:
        with self._lock:
            rule = dict(rule, id=self._next)
            self._next += 1
            self._rules.append(rule)
            return dict(rule)

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r["id"] != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._rules]

    def pick(self, operation_id: str, when: str, shop_id=None) -> dict | None:
        """The first rule that fires for this call at this point, consuming one of its ``times``."""
        with self._lock:
            for rule in self._rules:
                if rule["when"] != when:
                    continue
                ops = rule["operations"]
                if "*" not in ops and operation_id not in ops:
                    continue
                if rule["shop_id"] is not None and rule["shop_id"] != shop_id:
                    continue
                if rule["probability"] < 1 and self._random.random() >= rule["probability"]:
                    continue
                rule["hits"] += 1
                if rule["times"] is not None:
                    rule["times"] -= 1
                    if rule["times"] <= 0:
                        self._rules.remove(rule)
                return dict(rule)
        return None
