"""Dramatiq actors, one module per inbound event type.

``setup(broker)`` declares them; ``dramatiq etsyflow.workers.main`` runs them.
"""

from .base import Context, Rejected, actors, handles, park, parked_count, replay_parked, setup

__all__ = ["Context", "Rejected", "actors", "handles", "park", "parked_count", "replay_parked", "setup"]
