"""Dramatiq's options of every actor and broker, from the contract table.

The policy itself (queues, retries, time limits per event type) is written in
:mod:`etsyflow.messages.contract`, in seconds; here it becomes Dramatiq's
units: ``min_backoff``, ``max_backoff``, ``time_limit`` and ``max_age`` are
milliseconds.
"""

from __future__ import annotations

from ..messages.contract import CONTRACT, QUEUES, Inbound

__all__ = ["ACTOR_OPTIONS", "DEAD_MESSAGE_TTL", "HEARTBEAT_TIMEOUT", "MAINTENANCE_CHANCE", "QUEUES", "actor_name", "event_type_of",
           "options_of"]

SECOND = 1000
MINUTE = 60 * SECOND

# Dead-lettered messages are kept 14 days (milliseconds), long enough to fix
# the cause over a holiday and replay them.
DEAD_MESSAGE_TTL = 14 * 24 * 3600 * 1000
# A Redis worker process silent this long (milliseconds) is dead: its unacked
# messages go back to their queues (see .upkeep, which beats every 5 s in each
# worker and runs the queue maintenance on that timer). 15 s is three missed
# beats: a living process is never taken for dead, and a killed worker's
# messages are back within 20 s (Dramatiq's default is 60 s, with maintenance
# left to chance).
HEARTBEAT_TIMEOUT = 15_000
# Queue maintenance runs on the upkeep timer, not on a random share of commands
# (a random run right after a broker outage would judge workers dead by
# heartbeats that aged during the outage).
MAINTENANCE_CHANCE = 0


def options_of(entry: Inbound) -> dict:
    """Dramatiq actor options of a contract entry (durations in milliseconds)."""
    options = {"queue_name": entry.queue, "max_retries": entry.max_retries,
               "min_backoff": int(entry.min_backoff * SECOND), "max_backoff": int(entry.max_backoff * SECOND),
               "time_limit": int(entry.time_limit * SECOND)}
    if entry.max_age is not None:
        options["max_age"] = int(entry.max_age * SECOND)
    return options


#: Options per event type; a mutable copy, so a test worker may shorten the backoff before setup.
ACTOR_OPTIONS: dict[str, dict] = {event_type: options_of(entry) for event_type, entry in CONTRACT.items()}


def actor_name(event_type: str) -> str:
    """Actor names are stable: they are stored in queued messages."""
    return f"on_{event_type}"


def event_type_of(actor: str) -> str | None:
    """The event type an actor name handles (None for a name not made by :func:`actor_name`)."""
    return actor[3:] if actor.startswith("on_") else None
