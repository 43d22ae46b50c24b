"""Operations: what an operator looks at and acts on.

- :mod:`.status` — ``etsyflow status`` (queues, shops, Etsy quota);
- dead letters (``etsyflow dlq``) and queue counts are read from the broker by
  the worker layer (:mod:`etsyflow.workers.deadletters`,
  :mod:`etsyflow.workers.queues`), re-exported here for the commands;
- metrics: :mod:`etsyflow.workers.metrics`.
"""

from ..workers.deadletters import DeadLetter, DeadLetterQueue, Selection, UnknownMessage
from ..workers.middleware import DeadLetters
from ..workers.queues import QueueCounts, queue_counts

__all__ = ["DeadLetter", "DeadLetterQueue", "DeadLetters", "QueueCounts", "Selection", "UnknownMessage",
           "queue_counts"]
