"""Run the worker and the bridge inside this process (demo, tests, benchmarks).

Production runs them as separate processes (see the Procfile); this module
starts the same parts as threads (it imports Dramatiq for its in-process
``Worker``: the one entry point allowed to, see ``.importlinter``): a Dramatiq :class:`~dramatiq.Worker` and a
:class:`~etsyflow.bridge.Bridge`, on the broker and bus the settings name
(the embedded in-memory ones by default).
"""

from __future__ import annotations

import threading

import dramatiq

from .bridge import Bridge
from .config.logging import get_logger
from .messages import reset_publisher
from .messages.bus import connection
from .workers import setup
from .workers.broker import build_broker

log = get_logger("etsyflow.runtime")

# Bounded waits (seconds).
START_TIMEOUT_SECONDS = 15
STOP_TIMEOUT_SECONDS = 15


class Runtime:
    """Worker threads plus a bridge thread; use as a context manager."""

    def __init__(self, *, broker: dramatiq.Broker | None = None, worker_threads: int = 4, bridge: bool = True,
                 worker: bool = True, worker_timeout_ms: int = 100):
        self.broker = broker or build_broker()
        self.actors = setup(self.broker)
        self.worker_threads = worker_threads
        self.with_bridge = bridge
        self.with_worker = worker
        self.worker_timeout_ms = worker_timeout_ms
        self.worker: dramatiq.Worker | None = None
        self.bridge: Bridge | None = None
        self._bridge_thread: threading.Thread | None = None
        self._conn = None

    def start(self) -> "Runtime":
        reset_publisher()
        if self.with_worker:
            self.worker = dramatiq.Worker(self.broker, worker_threads=self.worker_threads,
                                          worker_timeout=self.worker_timeout_ms)
            self.worker.start()
        if self.with_bridge:
            self._conn = connection()
            self.bridge = Bridge(self._conn, self.actors)
            self._bridge_thread = threading.Thread(target=self.bridge.run, name="etsyflow-bridge", daemon=True)
            self._bridge_thread.start()
            if not self.bridge.ready.wait(START_TIMEOUT_SECONDS):
                raise RuntimeError(f"bridge did not start within {START_TIMEOUT_SECONDS} s")
        return self

    def join(self, timeout: float = 30.0) -> bool:
        """Wait (at most ``timeout`` seconds) until every queue is drained."""
        try:
            for queue in self.broker.get_declared_queues():
                self.broker.join(queue, timeout=int(timeout * 1000))
            return True
        except dramatiq.errors.QueueJoinTimeout:
            return False

    def stop(self) -> None:
        if self.bridge is not None:
            self.bridge.should_stop = True
            if self._bridge_thread is not None:
                self._bridge_thread.join(STOP_TIMEOUT_SECONDS)
            self._conn.release()
        if self.worker is not None:
            self.worker.stop(timeout=STOP_TIMEOUT_SECONDS * 1000)
        self.broker.close()

    def __enter__(self) -> "Runtime":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

