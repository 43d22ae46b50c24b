"""The worker layer: the only package that knows Dramatiq.

- :mod:`.registry` — ``@handles(EventType.X)`` and the handler's :class:`Context`;
- :mod:`.actors` — :func:`setup` declares one actor per handler; what an actor does;
- :mod:`.failures` — the failure table (refusal, retry-after, quota, revoked shop);
- :mod:`.parking` — work kept for a shop that must reconnect;
- :mod:`.options` — the contract table's options in Dramatiq's units;
- :mod:`.broker` — the broker chosen by ``BROKER_URL``;
- :mod:`.redis_broker`, :mod:`.upkeep`, :mod:`.outcomes` — recovery: nothing
  stranded by a lost Redis connection, dead workers' messages back on a
  timer, nothing acknowledged before its outcome is stored;
- :mod:`.middleware`, :mod:`.records`, :mod:`.deadletters`, :mod:`.queues` —
  dead letters (notice, record, ``etsyflow dlq``) and queue counts;
- :mod:`.metrics` — Prometheus series and how each process serves them;
- one module per inbound event type with its handler (listed in :mod:`.modules`).

``dramatiq etsyflow.workers.main`` runs them.
"""

from ..messages import Refused
from .actors import actors, replay_on_reconnect, replay_parked, setup
from .parking import park, parked_count
from .registry import Context, handles

#: The name the actor layer used for a refusal; it is :class:`etsyflow.messages.Refused`.
Rejected = Refused

__all__ = ["Context", "Refused", "Rejected", "actors", "handles", "park", "parked_count", "replay_on_reconnect",
           "replay_parked", "setup"]
