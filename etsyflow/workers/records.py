"""Why a message was dead-lettered, kept next to the dead-letter queue.

Dramatiq's dead-letter queues keep the message as it was last enqueued, so
they do not hold the error of the final attempt (nor any error when
``max_retries`` is 0). :class:`~etsyflow.workers.middleware.DeadLetters` writes one
record per dead-lettered message into the state Redis:

    etsyflow:ops:dead:<message id>   STR  JSON {last_error, error_type, retries,
                                          actor, queue, dead_at (epoch s)}

kept as long as the broker keeps dead letters (``DEAD_MESSAGE_TTL``).
"""

from __future__ import annotations

import json
import time

from ..config.logging import redact

#: Longest error text kept (characters); tracebacks stay in the worker's log.
MAX_ERROR_CHARS = 500


def record_key(message_id: str) -> str:
    return f"etsyflow:ops:dead:{message_id}"


def describe(exception: BaseException | None) -> str | None:
    """``Type: message`` of an exception, secrets scrubbed, bounded in length."""
    if exception is None:
        return None
    text = str(exception).strip()
    described = f"{type(exception).__name__}: {text}" if text else type(exception).__name__
    described = redact(None, None, {"text": " ".join(described.split())})["text"]
    if len(described) > MAX_ERROR_CHARS:
        described = described[: MAX_ERROR_CHARS - 1] + "…"
    return described


def save(redis, message_id: str, *, last_error: str | None, retries: int, actor: str, queue: str,
         ttl_ms: int, dead_at: float | None = None) -> dict:
    record = {"last_error": last_error, "retries": int(retries), "actor": actor, "queue": queue,
              "dead_at": time.time() if dead_at is None else dead_at}
    redis.set(record_key(message_id), json.dumps(record), px=max(1, int(ttl_ms)))
    return record


def load_many(redis, message_ids: list[str]) -> dict[str, dict]:
    if not message_ids:
        return {}
    found = {}
    for message_id, raw in zip(message_ids, redis.mget([record_key(m) for m in message_ids])):
        if raw is None:
            continue
        try:
            found[message_id] = json.loads(raw)
        except ValueError:
            continue
    return found


def forget(redis, message_ids: list[str]) -> None:
    if message_ids:
        redis.delete(*[record_key(m) for m in message_ids])
