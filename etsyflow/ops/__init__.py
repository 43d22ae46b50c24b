"""Operations: queue and shop status, dead letters, metrics.

- :mod:`.status` — ``etsyflow status`` (queues, shops, Etsy quota);
- :mod:`.deadletters` — ``etsyflow dlq`` (list, show, replay, purge);
- :mod:`.middleware` — :class:`DeadLetters`: records why a message was
  dead-lettered and publishes the rejection notice;
- :mod:`.metrics` — Prometheus series and how each process serves them.
"""

from .deadletters import DeadLetter, DeadLetterQueue, Selection, UnknownMessage
from .middleware import DeadLetters
from .queues import QueueCounts, queue_counts

__all__ = ["DeadLetter", "DeadLetterQueue", "DeadLetters", "QueueCounts", "Selection", "UnknownMessage",
           "queue_counts"]
