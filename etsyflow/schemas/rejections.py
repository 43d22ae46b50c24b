"""The answers to an event that is refused: built from the contract table
(:mod:`etsyflow.messages.contract`), shared by the bridge, the actors and the
dead-letter notice."""

from __future__ import annotations

import hashlib

from ..messages.contract import entry_for, rejection_data
from ..messages.envelope import CloudEvent
from ..messages.types import EventType
from .validate import Invalid


def event_rejected(event: CloudEvent, errors: list[dict]) -> CloudEvent:
    """``EventRejected`` for a valid envelope whose content cannot be processed."""
    return event.follow_up(EventType.EVENT_REJECTED, {"type": event.type, "id": event.id, "errors": errors})


def refusal(event: CloudEvent, data: dict, reason: str, *, key: str = "") -> CloudEvent:
    """The type's rejection of ``event`` (``ListingRejected`` …, see the contract) with ``reason``."""
    entry = entry_for(event.type)
    if entry is None:
        notice = event_rejected(event, [{"field": "event", "message": reason}])
        return event.follow_up(notice.type, notice.data, key=key)
    return event.follow_up(entry.rejection, rejection_data(entry, event.type, event.id, data, reason), key=key)


def invalid_answers(invalid: Invalid, raw, body: bytes | str) -> list[CloudEvent]:
    """What an invalid event is answered with: ``EventRejected`` carrying every
    error, then the type's own rejection where the event names its subject.

    The ids derive from the body, so the same bad event delivered again gets
    the same answers (subscribers drop repeated ids). Used by the bridge and by
    actors (an event sent straight to Dramatiq is checked too).
    """
    digest = hashlib.sha256(body if isinstance(body, bytes) else body.encode()).hexdigest()
    cause = CloudEvent.new("invalid", {}, id=invalid.event_id or f"sha256:{digest}")
    rejection = cause.follow_up(EventType.EVENT_REJECTED, {
        "type": invalid.event_type, "id": invalid.event_id, "errors": invalid.errors}, key=digest)
    if invalid.event_id is None:  # no cause to name
        rejection = CloudEvent(type=rejection.type, data=rejection.data, id=rejection.id)
    typed = typed_rejection(raw, invalid)
    return [rejection] if typed is None else [rejection, typed]


def typed_rejection(raw, invalid: Invalid) -> CloudEvent | None:
    """The type's own rejection (e.g. ``ListingRejected``) for an invalid event, when
    its type is known and it names what it is about, so an upstream that listens
    only for its own rejection type hears of bad input too. None otherwise."""
    entry = entry_for(invalid.event_type)
    data = raw.get("data") if isinstance(raw, dict) else None
    if entry is None or not isinstance(data, dict):
        return None
    reason = "invalid event: " + "; ".join(f"{e['field']}: {e['message']}" for e in invalid.errors)
    cause = CloudEvent(type=entry.type, data=data, id=invalid.event_id or "invalid")
    rdata = rejection_data(entry, entry.type, cause.id, data, reason)
    if not entry.subject or all(value is None for key, value in rdata.items() if key != "reason"):
        return None  # nothing named to reject (a tick), or nothing the subscriber could match
    return cause.follow_up(entry.rejection, rdata, key="invalid")
