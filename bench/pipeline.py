"""Events per second through bus → bridge → actor → follow-up, on a real Redis.

Beside it, in the same run and on the same Redis, the raw Dramatiq rate: a
no-op actor draining N pre-enqueued messages. The ratio says what the event
layer (kombu bus, validation, bridge hop, follow-up publish) costs on top of
Dramatiq itself. The pipeline uses a bench-only event type whose handler does
no Etsy call, so Etsy's rate limit does not hide the framework's cost.

Two layouts: ``--layout processes`` (default; as in production: the bridge and
the worker each in their own process, the publisher and the subscriber in
this one) and ``--layout threads`` (everything in one process, as in
``etsyflow demo``; bound by the GIL).

    python3 dev.py bench pipeline [--events 2000] [--threads 8] [--layout processes|threads]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dramatiq  # noqa: E402
import redis  # noqa: E402
from marshmallow import Schema, fields  # noqa: E402

from etsyflow.config import Settings, reset_settings  # noqa: E402
from etsyflow.workers.broker import build_broker  # noqa: E402
from etsyflow.config.logging import configure_logging  # noqa: E402
from etsyflow.messages import CloudEvent, publish, reset_publisher  # noqa: E402
from etsyflow.messages.tail import EventTail  # noqa: E402
from etsyflow.state import reset_redis  # noqa: E402

PING, PONG = "BenchPing", "BenchPong"


def register_bench_event() -> None:
    """A bench-only inbound type: validated, bridged and handled like the real ones
    (one contract entry, its schema, one handler)."""
    import etsyflow.messages
    from etsyflow.messages import contract
    from etsyflow.schemas import events
    from etsyflow.workers import options
    from etsyflow.workers.registry import handles

    class PingSchema(Schema):
        shop_id = fields.Integer(required=True)
        n = fields.Integer(required=True)

    entry = contract.Inbound(PING, "PingSchema", contract.EventType.EVENT_REJECTED, subject=("shop_id",),
                             queue="etsyflow.bench", max_retries=0)
    contract.CONTRACT[PING] = entry
    events.INBOUND_SCHEMAS[PING] = PingSchema
    options.ACTOR_OPTIONS[PING] = options.options_of(entry)
    contract.OUTBOUND = etsyflow.messages.OUTBOUND = contract.OUTBOUND | {PONG}

    @handles(PING)
    def on_ping(ctx):
        ctx.emit(PONG, {"shop_id": ctx.data["shop_id"], "n": ctx.data["n"]})


def raw_dramatiq_rate(url: str, count: int, threads: int) -> float:
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=url, namespace="bench-raw")
    done = []

    @dramatiq.actor(broker=broker, queue_name="bench-raw", max_retries=0)
    def noop(i):
        done.append(i)

    for i in range(count):
        noop.send(i)
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=50)
    started = time.perf_counter()
    worker.start()
    deadline = time.monotonic() + 300
    while len(done) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    worker.stop()
    broker.close()
    return len(done) / elapsed


def _configure(url: str) -> None:
    reset_settings(Settings.from_env({"REDIS_URL": url, "SECRET_KEY": "bench-secret-key-0123456789"}))
    reset_redis()
    reset_publisher()
    register_bench_event()


def _measure(tail: EventTail, count: int) -> tuple[float, float]:
    started = time.perf_counter()
    for i in range(count):
        publish(CloudEvent.new(PING, {"shop_id": 1, "n": i}, source="bench"))
    published = time.perf_counter() - started
    tail.wait_for(PONG, count=count, timeout=600)
    elapsed = time.perf_counter() - started
    return count / elapsed, count / published


def pipeline_rate_threads(url: str, count: int, threads: int) -> tuple[float, float]:
    from etsyflow.runtime import Runtime

    _configure(url)
    with EventTail([PONG]) as tail, Runtime(broker=build_broker(), worker_threads=threads):
        return _measure(tail, count)


def run_role(role: str, url: str, threads: int) -> None:
    """A child process: the bridge, or a Dramatiq worker, until terminated."""
    import signal

    from etsyflow.runtime import Runtime

    _configure(url)
    runtime = Runtime(broker=build_broker(), worker_threads=threads, bridge=role == "bridge",
                      worker=role == "worker").start()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", flush=True)
    while not stop:
        time.sleep(0.1)
    runtime.stop()


def pipeline_rate_processes(url: str, count: int, threads: int) -> tuple[float, float]:
    import subprocess

    _configure(url)
    children = [subprocess.Popen([sys.executable, __file__, "--role", role, "--redis-url", url,
                                  "--threads", str(threads)], stdout=subprocess.PIPE, text=True)
                for role in ("bridge", "worker")]
    try:
        for child in children:
            if child.stdout.readline().strip() != "ready":  # bounded by the child's own start timeout
                raise RuntimeError("a bench process did not start")
        with EventTail([PONG]) as tail:
            publish(CloudEvent.new(PING, {"shop_id": 1, "n": -1}, source="bench"))  # warm-up
            tail.wait_for(PONG, timeout=30)
            tail.events.clear()
            return _measure(tail, count)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--layout", choices=["processes", "threads"], default="processes")
    parser.add_argument("--role", choices=["bridge", "worker"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging("ERROR")
    if args.role:
        run_role(args.role, args.redis_url, args.threads)
        return
    redis.Redis.from_url(args.redis_url).flushdb()
    raw = raw_dramatiq_rate(args.redis_url, args.events, args.threads)
    redis.Redis.from_url(args.redis_url).flushdb()
    measure = pipeline_rate_processes if args.layout == "processes" else pipeline_rate_threads
    rate, publish_rate = measure(args.redis_url, args.events, args.threads)
    redis.Redis.from_url(args.redis_url).flushdb()
    print(f"events: {args.events}, worker threads: {args.threads}, layout: {args.layout}, Redis: {args.redis_url}")
    print(f"raw Dramatiq no-op drain (baseline): {raw:8.0f} messages/s")
    print(f"pipeline bus → bridge → actor → follow-up: {rate:8.0f} events/s "
          f"(publishing alone: {publish_rate:.0f} events/s)")
    print(f"ratio pipeline / baseline: {rate / raw:.2f}")


if __name__ == "__main__":
    main()
