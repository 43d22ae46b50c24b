"""The handlers of the inbound event types, and what a handler gets.

A feature module registers its handler with :func:`handles`; the rest of how
its event type is handled (queue, retries, rejection type, repeats) is its
entry in :mod:`etsyflow.messages.contract`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import dramatiq

from ..config.logging import get_logger
from ..messages import CloudEvent, publish
from ..messages.contract import CONTRACT, Inbound

log = get_logger("etsyflow.workers")


@dataclass
class Handler:
    entry: Inbound
    func: Callable[["Context"], None]

    @property
    def event_type(self) -> str:
        return self.entry.type


@dataclass
class Context:
    """What a handler gets: the event, its loaded data, and a way to publish."""

    event: CloudEvent
    data: dict
    message: dramatiq.Message | None = None
    published: list[CloudEvent] = field(default_factory=list)

    @property
    def shop_id(self):
        return self.data.get("shop_id")

    @property
    def log(self):
        return log

    def emit(self, event_type: str, data: dict, *, key: str = "") -> CloudEvent:
        """Publish a follow-up of this event now (id derived from the cause and ``key``)."""
        follow_up = self.event.follow_up(event_type, data, key=key)
        publish(follow_up)
        self.published.append(follow_up)
        return follow_up


_handlers: dict[str, Handler] = {}


def handles(event_type: str):
    """Register ``func(ctx)`` as the handler of ``event_type`` (an entry of the contract table)."""
    entry = CONTRACT.get(event_type)
    if entry is None:
        raise LookupError(f"{event_type} has no entry in etsyflow.messages.contract.CONTRACT")

    def decorator(func):
        _handlers[event_type] = Handler(entry, func)
        return func

    return decorator


def handler_for(event_type: str | None) -> Handler | None:
    """The registered handler of ``event_type`` (None when there is none)."""
    return _handlers.get(event_type or "")


def handlers() -> dict[str, Handler]:
    return dict(_handlers)
