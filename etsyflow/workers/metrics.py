"""Prometheus metrics: what they are, and how each process serves them.

Enabled by ``METRICS_PORT``. Each long-running process serves ``/metrics``
on its own port so they can share a host:

=============  ===================  ===========================================
process        port                 served by
=============  ===================  ===========================================
worker         ``METRICS_PORT``     Dramatiq's Prometheus middleware: a separate
                                    exposition process that sums the files of
                                    every worker process (multiprocess mode)
bridge         ``METRICS_PORT + 1`` ``prometheus_client.start_http_server``
scheduler      ``METRICS_PORT + 2`` ``prometheus_client.start_http_server``
=============  ===================  ===========================================

Series (besides Dramatiq's ``dramatiq_messages_total``,
``dramatiq_message_errors_total``, ``dramatiq_message_retries_total``,
``dramatiq_message_rejects_total`` (dead letters),
``dramatiq_message_duration_milliseconds`` and
``dramatiq_messages_inprogress`` per ``queue_name``/``actor_name``, and the
Etsy client's ``etsyflow_etsy_*`` series, see :mod:`etsyflow.etsy.metrics`):

* ``etsyflow_events_published_total{type}`` — every event published;
* ``etsyflow_events_rejected_total{type}`` — rejections published
  (``EventRejected``, ``ListingRejected`` …, dead-letter notices included);
* ``etsyflow_dead_letters_total{actor, queue}`` — messages dead-lettered;
* ``etsyflow_etsy_quota_remaining`` — Etsy calls left in the rolling day
  (whole deployment), refreshed every :data:`REFRESH_SECONDS` (``METRICS_REFRESH_SECONDS``);
* ``etsyflow_queue_messages{queue, state}`` — ready / delayed / dead counts
  of the work queues, refreshed likewise.

Multiprocess note: ``prometheus_client`` picks its storage when it is first
imported, so the worker's multiprocess directory must be in the environment
before the worker starts; ``etsyflow worker`` does that
(:func:`prepare_worker_environment`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading

from dramatiq.middleware import Middleware

from ..config import get_settings
from ..config.logging import get_logger
from ..etsy.ratelimit import RateLimiter
from ..messages import add_listener
from ..messages.contract import REJECTIONS
from ..state import get_redis
from .queues import queue_counts

log = get_logger("etsyflow.ops.metrics")

#: Seconds between two refreshes of the quota and queue gauges (env ``METRICS_REFRESH_SECONDS``).
REFRESH_SECONDS = 15.0
#: Port offsets from ``METRICS_PORT`` per process kind.
PORT_OFFSETS = {"worker": 0, "bridge": 1, "scheduler": 2, "webhooks": 3}
#: Rejection types, from the contract table.
REJECTION_TYPES = REJECTIONS

_lock = threading.Lock()
_metrics: dict | None = None
_listening = False
_refresher: threading.Thread | None = None


def port_for(kind: str, settings=None) -> int | None:
    settings = settings or get_settings()
    if not settings.metrics_port:
        return None
    return settings.metrics_port + PORT_OFFSETS[kind]


def _get() -> dict:
    """The etsyflow series, created once per process (after the storage mode is settled)."""
    global _metrics
    with _lock:
        if _metrics is None:
            # Imported here, not at the top: prometheus_client picks its storage (multiprocess
            # or not) when first imported, after prepare_worker_environment has run.
            from prometheus_client import Counter, Gauge

            _metrics = {
                "published": Counter("etsyflow_events_published_total", "Events published, by type.", ["type"]),
                "rejected": Counter("etsyflow_events_rejected_total",
                                    "Rejections published (EventRejected, ListingRejected, ...), by type.",
                                    ["type"]),
                "dead": Counter("etsyflow_dead_letters_total",
                                "Messages moved to the dead-letter queue after their retries ran out.",
                                ["actor", "queue"]),
                "quota": Gauge("etsyflow_etsy_quota_remaining",
                               "Etsy calls left in the rolling 24 h for the whole deployment.",
                               multiprocess_mode="mostrecent"),
                "queue": Gauge("etsyflow_queue_messages",
                               "Messages in the work queues: state=ready|delayed|dead.",
                               ["queue", "state"], multiprocess_mode="mostrecent"),
            }
        return _metrics


# -- hooks ------------------------------------------------------------------------------

def on_published(event) -> None:
    """``messages.add_listener`` callback: count every published event."""
    series = _get()
    series["published"].labels(type=event.type).inc()
    if event.type in REJECTION_TYPES:
        series["rejected"].labels(type=event.type).inc()


def dead_lettered(actor: str, queue: str) -> None:
    _get()["dead"].labels(actor=actor, queue=queue).inc()


def refresh_gauges(settings=None) -> None:
    """Read the quota and queue counts once (bounded Redis calls)."""
    series = _get()
    series["quota"].set(RateLimiter(get_redis(), settings).remaining_today())
    for q in queue_counts(settings):
        for state in ("ready", "delayed", "dead"):
            series["queue"].labels(queue=q.queue, state=state).set(getattr(q, state))


def _refresh_forever(stop: threading.Event, interval: float) -> None:
    while True:
        try:
            refresh_gauges()
        except Exception as error:  # Redis away for a moment: try again next round
            log.warning("metrics refresh failed", error=str(error))
        if stop.wait(interval):
            return


def refresh_interval(settings=None) -> float:
    """``METRICS_REFRESH_SECONDS`` (checked with the other settings)."""
    return (settings or get_settings()).metrics_refresh_seconds


def start_refresher(interval: float | None = None) -> threading.Event:
    """Refresh the gauges every ``interval`` seconds in a daemon thread; set the event to stop it."""
    global _refresher
    interval = refresh_interval() if interval is None else interval
    stop = threading.Event()
    with _lock:
        if _refresher is not None and _refresher.is_alive():
            return stop
        _refresher = threading.Thread(target=_refresh_forever, args=(stop, interval), daemon=True,
                                      name="etsyflow-metrics-refresh")
        _refresher.start()
    return stop


def _listen() -> None:
    global _listening
    with _lock:
        if _listening:
            return
        _listening = True
    add_listener(on_published)


# -- per process ------------------------------------------------------------------------

def serve(kind: str, settings=None, *, addr: str = "0.0.0.0") -> int | None:
    """Bridge/scheduler: serve ``/metrics`` on ``METRICS_PORT`` + offset; returns the port (None when off)."""
    port = port_for(kind, settings)
    if port is None:
        return None
    from prometheus_client import start_http_server  # late: see _get

    _get()
    _listen()
    start_http_server(port, addr=addr)
    start_refresher()
    log.info("metrics served", port=port, path="/metrics", process=kind)
    return port


def multiprocess_dir(port: int) -> str:
    return os.path.join(tempfile.gettempdir(), f"etsyflow-metrics-{port}")


def prepare_worker_environment(env: dict, settings=None) -> dict:
    """Environment for ``dramatiq etsyflow.workers.main`` so that its metrics work.

    Sets Dramatiq's ``dramatiq_prom_port``/``dramatiq_prom_host``/``dramatiq_prom_db``
    and ``PROMETHEUS_MULTIPROC_DIR`` (one directory, emptied: counters start
    at zero with each worker start). Returns ``env`` unchanged when metrics
    are off or the operator set ``dramatiq_prom_db`` already.
    """
    port = port_for("worker", settings)
    if port is None:
        return env
    env = dict(env)
    env.setdefault("dramatiq_prom_port", str(port))
    env.setdefault("dramatiq_prom_host", "0.0.0.0")
    if "dramatiq_prom_db" not in env:
        path = multiprocess_dir(port)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)
        env["dramatiq_prom_db"] = path
    env["PROMETHEUS_MULTIPROC_DIR"] = env["dramatiq_prom_db"]
    return env


def instrument_worker(broker, settings=None) -> bool:
    """In a Dramatiq worker process: add Dramatiq's Prometheus middleware and etsyflow's series.

    Only when ``METRICS_PORT`` is set and the multiprocess directory was
    prepared (``etsyflow worker`` does it); otherwise logs why and returns False.
    """
    if port_for("worker", settings) is None:
        return False
    # prometheus_client's own variable (read by it at import), not an etsyflow setting.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        log.warning("METRICS_PORT is set but this worker was not started by `etsyflow worker`: "
                    "set dramatiq_prom_port, dramatiq_prom_db and PROMETHEUS_MULTIPROC_DIR (same directory) "
                    "before starting dramatiq, or use `etsyflow worker`; worker metrics are off")
        return False
    from dramatiq.middleware.prometheus import Prometheus  # late: it imports prometheus_client, see _get

    if not any(isinstance(m, Prometheus) for m in broker.middleware):
        broker.add_middleware(EtsyflowSeries())
        broker.add_middleware(Prometheus())
    return True


class EtsyflowSeries(Middleware):
    """Starts etsyflow's series with each worker process (after Dramatiq's process boot)."""

    def after_process_boot(self, broker):
        _get()
        _listen()

    def after_worker_boot(self, broker, worker):
        start_refresher()
