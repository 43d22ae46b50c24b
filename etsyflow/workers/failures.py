"""The failure table: one answer per way a handler can fail.

================================  ===========================================
failure                           action
================================  ===========================================
:class:`~etsyflow.messages.       publish the event type's rejection (see the
Refused` / Etsy ``PermanentError``  contract table) with the reason; done, no retry
Etsy ``RateLimited`` (daily)      re-enqueue delayed until the quota is back
                                  (at most :data:`MAX_PARK_SECONDS`); no retry
                                  is spent
:class:`~etsyflow.messages.       Dramatiq retries after ``seconds`` (the
RetryLater`, Etsy ``RateLimited``   per-second limit's ``retry_after``)
(per second)
Etsy ``AuthFailed``               park the message for the shop; replayed when
                                  it reconnects (:mod:`.parking`; bounded in
                                  count and age, beyond: the rejection)
shop never connected              the type's rejection, "shop N is not
(``ShopNotConnected``, a          connected" (checked before the handler runs)
``PermanentError``)
anything else                     raise: Dramatiq retries with backoff, then
                                  dead-letters (options in the contract table)
================================  ===========================================

This is the only module that turns outcomes into queue actions; domain code
raises :class:`~etsyflow.messages.Refused` / :class:`~etsyflow.messages.RetryLater`
and never sees Dramatiq.
"""

from __future__ import annotations

import dramatiq

from ..config.logging import get_logger
from ..etsy.errors import AuthFailed, PermanentError, RateLimited
from ..messages import CloudEvent, Refused, RetryLater, publish
from ..schemas.rejections import refusal
from .parking import park

log = get_logger("etsyflow.workers")

# A daily-quota park never waits longer than this (seconds) before re-checking.
MAX_PARK_SECONDS = 6 * 3600

DONE, PARKED = "done", "parked"


def reject(event: CloudEvent, data: dict, reason: str) -> None:
    """Publish the rejection of ``event`` (its type's, from the contract table)."""
    publish(refusal(event, data, reason))
    log.warning("rejected", reason=reason)


def answer(event: CloudEvent, data: dict, envelope: dict, error: Exception, actor: dramatiq.Actor) -> str | None:
    """Answer ``error`` per the table: DONE (answered for good), PARKED (will run
    again later, so not marked done), or None ("let Dramatiq retry")."""
    if isinstance(error, (Refused, PermanentError)):
        reject(event, data, error.reason)
        return DONE
    if isinstance(error, RateLimited) and error.daily:
        delay = min(max(float(error.retry_after or 60), 1.0), MAX_PARK_SECONDS)
        actor.send_with_options(args=(envelope,), delay=int(delay * 1000))
        log.warning("daily Etsy quota used up; parked", retry_in_seconds=delay)
        return PARKED
    if isinstance(error, RateLimited):
        error = RetryLater(float(error.retry_after or 1), "Etsy per-second limit")
    if isinstance(error, RetryLater):
        raise dramatiq.Retry(str(error), delay=int(error.seconds * 1000))
    if isinstance(error, AuthFailed):
        if not park(data.get("shop_id"), event.type, envelope):
            return DONE  # over the parking bound: answered with its rejection
        log.warning("shop needs reconnecting; parked", reason=str(error))
        return PARKED
    return None
