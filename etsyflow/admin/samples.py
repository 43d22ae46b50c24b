"""Queue depth over the last hour, sampled into Redis by the console.

    etsyflow:admin:samples:queues         ZSET  score epoch s, member JSON {t, depth: {queue: n}}
    etsyflow:admin:samples:slot:<bucket>  STR   the one console that samples this bucket (NX)

Depth is ready + delayed + in flight per queue. One sample per
:data:`SAMPLE_SECONDS` whichever number of consoles run; samples older than
:data:`KEEP_SECONDS` are dropped at each write.
"""

from __future__ import annotations

import json
import threading
import time

from ..config.logging import get_logger
from ..workers.queues import queue_counts

SAMPLES_KEY = "etsyflow:admin:samples:queues"
SAMPLE_SECONDS = 30
KEEP_SECONDS = 3600

log = get_logger("etsyflow.admin")


def depth(counts) -> dict[str, int]:
    return {c.queue: int(c.ready) + int(c.delayed) + int(c.in_flight or 0) for c in counts}


def record_once(redis, settings, *, now: float | None = None, force: bool = False) -> bool:
    """Take one sample unless another console took this bucket's; True when one was written."""
    now = time.time() if now is None else now
    bucket = int(now // SAMPLE_SECONDS)
    if not force and not redis.set(f"etsyflow:admin:samples:slot:{bucket}", b"1", nx=True, ex=SAMPLE_SECONDS * 2):
        return False
    sample = {"t": now, "depth": depth(queue_counts(settings))}
    pipe = redis.pipeline(transaction=True)
    pipe.zadd(SAMPLES_KEY, {json.dumps(sample, sort_keys=True): now})
    pipe.zremrangebyscore(SAMPLES_KEY, "-inf", now - KEEP_SECONDS)
    pipe.execute()
    return True


def last_hour(redis, *, now: float | None = None) -> list[dict]:
    now = time.time() if now is None else now
    return [json.loads(raw) for raw in redis.zrangebyscore(SAMPLES_KEY, now - KEEP_SECONDS, "+inf")]


class Sampler:
    """A thread taking :func:`record_once` every :data:`SAMPLE_SECONDS`; stops promptly."""

    def __init__(self, redis, settings, every: float = SAMPLE_SECONDS):
        self.redis, self.settings, self.every = redis, settings, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Sampler":
        self._thread = threading.Thread(target=self._run, name="etsyflow-admin-samples", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            try:
                record_once(self.redis, self.settings)
            except Exception as error:  # broker or Redis away: a gap in the picture, nothing else
                log.warning("admin_sample_failed", error=str(error))
            if self._stop.wait(self.every):
                return

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
