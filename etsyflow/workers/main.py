"""Entry module for the Dramatiq CLI: ``dramatiq etsyflow.workers.main``.

Importing it builds the broker from the environment and declares the actors.
"""

from ..config import get_settings
from ..config.logging import configure_logging
from .actors import setup
from .broker import build_broker
from .metrics import instrument_worker

configure_logging(get_settings().log_level)
broker = build_broker()
actors = setup(broker)
instrument_worker(broker)  # Prometheus metrics when METRICS_PORT is set
