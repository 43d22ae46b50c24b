"""The fault suite's parts: a private Redis broker that can crash, real worker processes, the sandbox.

Layout of one run:

- Dramatiq broker: a private ``redis-server`` on a free port, ``appendonly yes``
  + ``appendfsync always`` in a temporary directory (it can be killed and
  restarted without losing an acknowledged write);
- state and event bus: the shared test Redis (``ETSYFLOW_TEST_REDIS_DB``);
- workers: ``python -m dramatiq tests.faults.worker`` subprocesses (the
  production actors with test-sized retry timings, see ``worker.py``);
- bridge: in this process (events are published on the bus as upstream would);
- Etsy: the sandbox over HTTP, with its fault injection.

Every figure a scenario measures is printed and repeated in the terminal summary.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import REDIS_DB, REDIS_HOST, REDIS_PORT, TEST_SECRET_KEY, redis_reachable, require_service

ROOT = Path(__file__).resolve().parents[2]
#: Etsy calls time out after this (seconds); "slow" faults hold answers longer.
ETSY_TIMEOUT = 1.0
SLOW_SECONDS = 2.5
#: A write whose outcome is unknown is re-checked this long after it could last have landed (seconds);
#: more than SLOW_SECONDS - ETSY_TIMEOUT, the longest an answer is held after the client gave up.
SETTLE_SECONDS = 3

FIGURES: list[dict] = []


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("fault suite figures")
    for figures in FIGURES:
        terminalreporter.write_line(format_figures(figures))


def format_figures(f: dict) -> str:
    return (f"{f['scenario']}: sent {f['sent']} events ({f['detail']}), completed {f['completed']}, "
            f"duplicates {f['duplicates']}, lost {f['lost']}, message retries {f['retries']}, "
            f"{f.get('injected', 'Etsy faults injected')} {f['faults']} of {f['etsy_calls']} calls, time to drain {f['drain_seconds']:.1f} s"
            + (f"; {f['note']}" if f.get("note") else ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of our own, persisted with an fsync'd append-only file."""

    def __init__(self, directory: Path):
        self.binary = shutil.which("redis-server")
        self.dir = directory
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        import redis

        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"],
            stdout=(self.dir / "redis.log").open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"private redis-server did not start within {timeout} s")

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_timeout=5, socket_connect_timeout=2)

    def crash(self) -> None:
        """SIGKILL: no shutdown save; only what the append-only file has survives."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.crash()


class WorkerProcess:
    """``python -m dramatiq tests.faults.worker`` with its own metrics port."""

    def __init__(self, env: dict, log_path: Path, *, threads: int = 4):
        from etsyflow.config import Settings
        from etsyflow.workers.metrics import prepare_worker_environment

        self.metrics_port = free_port()
        env = dict(env, METRICS_PORT=str(self.metrics_port))
        for name in ("dramatiq_prom_db", "dramatiq_prom_port", "PROMETHEUS_MULTIPROC_DIR"):
            env.pop(name, None)
        self.env = prepare_worker_environment(env, Settings.from_env(env))
        self.log_path = log_path
        self.threads = threads
        self.proc: subprocess.Popen | None = None
        self.retries_seen = 0.0

    def start(self) -> "WorkerProcess":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "tests.faults.worker", "--processes", "1", "--threads",
             str(self.threads), "--path", str(ROOT)],
            env=self.env, cwd=ROOT, stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def retries(self) -> float:
        """``dramatiq_message_retries_total`` from its metrics endpoint (last value seen)."""
        try:
            text = requests.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2).text
        except requests.RequestException:
            return self.retries_seen
        total = 0.0
        for line in text.splitlines():
            if line.startswith("dramatiq_message_retries_total{"):
                total += float(line.rsplit(" ", 1)[1])
        self.retries_seen = max(self.retries_seen, total)
        return self.retries_seen

    def kill(self) -> None:
        """SIGKILL the whole process group (main process, worker process, metrics process)."""
        if self.proc is not None and self.proc.poll() is None:
            self.retries()
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.retries()
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail_log(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed, and CI must not pass by skipping")
        pytest.skip("redis-server is not installed (the fault suite starts a private one)")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fault_env(configure, private_redis, tmp_path):
    """Settings for this process and the worker processes; yields (env, sandbox)."""
    import redis

    from etsy_sandbox.testing import run_sandbox

    state_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    require_service(redis_reachable(state_url), f"Redis at {state_url}")
    client = redis.Redis.from_url(state_url)
    client.flushdb()
    with run_sandbox(rate_per_second=200, rate_per_day=1_000_000) as sandbox:
        env = {"REDIS_URL": state_url, "BROKER_URL": private_redis.url, "EVENTS_URL": state_url,
               "SECRET_KEY": TEST_SECRET_KEY, "ETSY_TIMEOUT_SECONDS": str(ETSY_TIMEOUT),
               "ETSY_RATE_PER_SECOND": "100", "SHIPMENT_SETTLE_SECONDS": str(SETTLE_SECONDS), "ORDERS_LOCK_TTL_SECONDS": "3",
               "LOG_LEVEL": "WARNING", "IMAGE_ALLOWED_NETWORKS": "127.0.0.0/8", **sandbox.env()}
        configure(**env)
        yield dict(os.environ, PYTHONPATH=str(ROOT), **env), sandbox
    client.flushdb()
    client.close()


class Stack:
    """Everything of one run: sandbox, a connected shop, the tail, the in-process bridge, worker processes."""

    def __init__(self, env: dict, sandbox, broker: PrivateRedis, tmp_path: Path):
        self.env, self.sandbox, self.broker_server, self.tmp_path = env, sandbox, broker, tmp_path
        self.workers: list[WorkerProcess] = []
        self.shop_id = None
        self.tail = self.bridge = None

    def start(self) -> "Stack":
        from etsyflow.messages.tail import EventTail
        from etsyflow.runtime import Runtime
        from tests.conftest import connect_shop

        self.shop_id = connect_shop(self.sandbox)
        self.tail = EventTail().start()
        self.bridge = Runtime(worker=False, bridge=True).start()
        self.start_worker()
        return self

    def start_worker(self) -> WorkerProcess:
        worker = WorkerProcess(self.env, self.tmp_path / f"worker-{len(self.workers)}.log").start()
        self.workers.append(worker)
        return worker

    @property
    def worker(self) -> WorkerProcess:
        return self.workers[-1]

    def retries(self) -> int:
        return int(sum(w.retries() if w.alive() else w.retries_seen for w in self.workers))

    def logs(self) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.tail_log()}" for w in self.workers)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.bridge is not None:
            self.bridge.stop()
        if self.tail is not None:
            self.tail.stop()


@pytest.fixture
def stack(fault_env, private_redis, tmp_path):
    env, sandbox = fault_env
    running = Stack(env, sandbox, private_redis, tmp_path).start()
    try:
        yield running
    finally:
        running.stop()


def record(figures: dict) -> None:
    """Keep the figures for the terminal summary and print them now (visible with -s)."""
    FIGURES.append(figures)
    print("\n" + format_figures(figures))
    print(f"  duplicates: {figures['duplicates_detail']}; on Etsy: {figures['listings_on_etsy']} listings, "
          f"{figures['shipments_on_etsy']} shipments; rejections {figures['rejections']}")


# -- one Redis for everything -------------------------------------------------------------

class DurableTail:
    """Watches the bus through a named durable queue and reconnects after the bus was away, so it
    also sees the events published while it was disconnected (an exclusive tail would lose them).
    Offers the :class:`~etsyflow.messages.tail.EventTail` methods the workload uses."""

    def __init__(self, url: str):
        from etsyflow.messages.tail import EventTail

        self._view = EventTail(url=url)  # its collection and waiting; its own consumer is not started
        self.url = url
        self.loop = None
        self.thread = None

    @property
    def events(self):
        return self._view.events

    def of_type(self, *args, **kwargs):
        return self._view.of_type(*args, **kwargs)

    def wait_for(self, *args, **kwargs):
        return self._view.wait_for(*args, **kwargs)

    def start(self, timeout: float = 10.0) -> "DurableTail":
        import threading

        from kombu import Queue
        from kombu.mixins import ConsumerMixin

        from etsyflow.messages.bus import EXCHANGE, connection

        view = self._view
        queue = Queue("faults.observer", EXCHANGE, routing_key="#", durable=True)
        ready = threading.Event()

        class Loop(ConsumerMixin):
            def __init__(self, conn):
                self.connection = conn

            def get_consumers(self, Consumer, channel):
                return [Consumer(queues=[queue], on_message=self.on_message, prefetch_count=100)]

            def on_consume_ready(self, *args, **kwargs):
                ready.set()

            def on_message(self, message):
                view._on_message(message)
                message.ack()

        self.loop = Loop(connection(self.url))
        self.thread = threading.Thread(target=self.loop.run, name="faults-observer", daemon=True)
        self.thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("observer not ready")
        return self

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.should_stop = True
            self.thread.join(10)
            self.loop.connection.release()


@pytest.fixture
def one_redis_stack(configure, private_redis, tmp_path):
    """State, broker and bus on the one private, fsync'd Redis (as production runs it)."""
    from etsyflow.runtime import Runtime
    from etsy_sandbox.testing import run_sandbox
    from tests.conftest import connect_shop

    url = private_redis.url
    with run_sandbox(rate_per_second=200, rate_per_day=1_000_000) as sandbox:
        env = {"REDIS_URL": url, "SECRET_KEY": TEST_SECRET_KEY, "ETSY_TIMEOUT_SECONDS": str(ETSY_TIMEOUT),
               "ETSY_RATE_PER_SECOND": "100", "SHIPMENT_SETTLE_SECONDS": str(SETTLE_SECONDS),
               "ORDERS_LOCK_TTL_SECONDS": "3", "LOG_LEVEL": "WARNING", **sandbox.env()}
        configure(**env)
        stack = Stack(dict(os.environ, PYTHONPATH=str(ROOT), **env), sandbox, private_redis, tmp_path)
        stack.shop_id = connect_shop(sandbox)
        stack.tail = DurableTail(url).start()
        stack.bridge = Runtime(worker=False, bridge=True).start()
        stack.start_worker()
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture
def rabbit_stack(fault_env, private_redis, tmp_path, configure):
    """The same stack with RabbitMQ (``ETSYFLOW_TEST_AMQP_URL``) as the Dramatiq broker."""
    from etsyflow.workers.broker import build_broker
    from etsyflow.workers import setup
    from tests.conftest import AMQP_URL, amqp_reachable

    if not amqp_reachable():
        if os.environ.get("ETSYFLOW_TEST_RABBITMQ") or os.environ.get("CI"):
            pytest.fail("RabbitMQ was reported reachable but does not answer")
        pytest.skip("RabbitMQ is not reachable")
    env, sandbox = fault_env
    env = dict(env, BROKER_URL=AMQP_URL)
    configure(**{k: env[k] for k in ("REDIS_URL", "BROKER_URL", "EVENTS_URL", "SECRET_KEY", "ETSY_TIMEOUT_SECONDS",
                                     "ETSY_RATE_PER_SECOND", "SHIPMENT_SETTLE_SECONDS", "ORDERS_LOCK_TTL_SECONDS",
                                     "LOG_LEVEL")}, **sandbox.env())
    broker = build_broker()
    setup(broker)
    broker.flush_all()  # nothing left from an earlier run in this vhost
    broker.close()
    running = Stack(env, sandbox, private_redis, tmp_path).start()
    try:
        yield running
    finally:
        running.stop()
