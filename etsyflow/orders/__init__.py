"""Orders: download new and changed Etsy receipts as contract ``order`` events.

- :mod:`.poll` one poll of one shop (incremental or reconcile),
- :mod:`.tick` what an ``OrdersPollTick`` does (fan-out, lock, stale ticks),
- :mod:`.store` cursor, fingerprints, lock and records in Redis,
- :mod:`.changes` what changed between two states of an order,
- :mod:`.config` the ``ORDERS_*`` knobs.
"""

from .poll import INCREMENTAL, MODES, RECONCILE, Poller, PollResult
from .store import OrderState

__all__ = ["INCREMENTAL", "MODES", "RECONCILE", "OrderState", "PollResult", "Poller"]
