"""Events per second through bus → bridge → actor → follow-up, on a real Redis.

Beside it, in the same run and on the same Redis, the raw Dramatiq rate: a
no-op actor draining N pre-enqueued messages. The ratio says what the event
layer (kombu bus, validation, bridge hop, follow-up publish) costs on top of
Dramatiq itself. The pipeline uses a bench-only event type whose handler does
no Etsy call, so Etsy's rate limit does not hide the framework's cost.

Two measures of the pipeline, each against the same raw baseline:

- **drain** (the goal's measure, like the baseline): ``--events`` events are
  published to the bus first, then the bridge and the worker start, and the
  time runs until the last follow-up is seen;
- **live**: bridge and worker running, events published one at a time from
  this process while they flow (bounded also by the one publishing thread).

Two layouts: ``--layout processes`` (default; as in production: the bridge and
the worker each in their own process, the publisher and the subscriber in
this one) and ``--layout threads`` (everything in one process, as in
``etsyflow demo``; bound by the GIL). ``--broker-url amqp://…`` runs the bus
and Dramatiq (and the baseline) on RabbitMQ, state on ``--redis-url``.

    python3 dev.py bench pipeline [--events 2000] [--threads 8] [--layout processes|threads]
                                  [--redis-url redis://127.0.0.1:6379/14] [--broker-url amqp://…]
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


GOAL = 0.5  # pipeline events/s ÷ raw Dramatiq messages/s


def raw_dramatiq_rate(url: str, count: int, threads: int) -> float:
    if url.startswith("amqp"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url, confirm_delivery=True)  # as build_broker: confirmed enqueues
    else:
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url, namespace="bench-raw")
    done = []

    @dramatiq.actor(broker=broker, queue_name="bench-raw", max_retries=0)
    def noop(i):
        done.append(i)

    broker.flush_all()
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
    broker.flush_all()
    broker.close()
    return len(done) / elapsed


def _configure(url: str, broker_url: str | None = None) -> None:
    env = {"REDIS_URL": url, "SECRET_KEY": "bench-secret-key-0123456789"}
    if broker_url:
        env["BROKER_URL"] = broker_url
    reset_settings(Settings.from_env(env))
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


def pipeline_rate_threads(url: str, count: int, threads: int, broker_url=None) -> tuple[float, float]:
    from etsyflow.runtime import Runtime

    _configure(url, broker_url)
    with EventTail([PONG]) as tail, Runtime(broker=build_broker(), worker_threads=threads):
        return _measure(tail, count)


def run_role(role: str, url: str, threads: int, broker_url=None, wait_for_go: bool = False) -> None:
    """A child process: the bridge, or a Dramatiq worker, until terminated."""
    import signal

    from etsyflow.runtime import Runtime

    _configure(url, broker_url)
    runtime = Runtime(broker=build_broker(), worker_threads=threads, bridge=role == "bridge",
                      worker=role == "worker")
    if role == "bridge" and wait_for_go:
        print("loaded", flush=True)
        sys.stdin.readline()  # "go": the drain's clock starts when the bridge may consume
    runtime.start()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", flush=True)
    while not stop:
        time.sleep(0.1)
    runtime.stop()


def _start_children(url: str, threads: int, broker_url, *, go=None) -> list:
    """The bridge and the worker processes; with ``go``, the bridge waits for it before consuming
    (``go`` is called just before, to start a clock)."""
    import subprocess

    extra = ["--broker-url", broker_url] if broker_url else []
    children = [subprocess.Popen([sys.executable, __file__, "--role", role, "--redis-url", url,
                                  "--threads", str(threads), *extra, *(["--wait-for-go"] if go else [])],
                                 stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
                for role in ("worker", "bridge")]
    worker, bridge = children
    if worker.stdout.readline().strip() != "ready":  # bounded by the child's own start timeout
        raise RuntimeError("the bench worker did not start")
    if go:
        if bridge.stdout.readline().strip() != "loaded":
            raise RuntimeError("the bench bridge did not load")
        go()
        bridge.stdin.write("go\n")
        bridge.stdin.flush()
    if bridge.stdout.readline().strip() != "ready":
        raise RuntimeError("the bench bridge did not start")
    return children


def _stop_children(children: list) -> None:
    for child in children:
        child.terminate()
    for child in children:
        child.wait(30)


def pipeline_rate_processes(url: str, count: int, threads: int, broker_url=None) -> tuple[float, float]:
    """Live: events published one by one while the bridge and the worker run."""
    _configure(url, broker_url)
    children = []
    try:
        children = _start_children(url, threads, broker_url)
        with EventTail([PONG]) as tail:
            publish(CloudEvent.new(PING, {"shop_id": 1, "n": -1}, source="bench"))  # warm-up
            tail.wait_for(PONG, timeout=30)
            tail.events.clear()
            return _measure(tail, count)
    finally:
        _stop_children(children)


def pipeline_drain_processes(url: str, count: int, threads: int, broker_url=None) -> float:
    """Drain: ``count`` events waiting on the bus, then the bridge and the worker start."""
    from etsyflow.messages.bus import BRIDGE_QUEUE, connection

    _configure(url, broker_url)
    with connection() as conn:
        BRIDGE_QUEUE(conn.default_channel).declare()
        BRIDGE_QUEUE(conn.default_channel).purge()
    children = []
    with EventTail([PONG]) as tail:
        for i in range(count):
            publish(CloudEvent.new(PING, {"shop_id": 1, "n": i}, source="bench"))
        started = []
        try:
            # the clock starts when the bridge may consume (the worker is already up, as in the baseline)
            children = _start_children(url, threads, broker_url, go=lambda: started.append(time.perf_counter()))
            tail.wait_for(PONG, count=count, timeout=600)
            return count / (time.perf_counter() - started[0])
        finally:
            _stop_children(children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--broker-url", default=None, help="amqp://… : bus and Dramatiq on RabbitMQ")
    parser.add_argument("--layout", choices=["processes", "threads"], default="processes")
    parser.add_argument("--role", choices=["bridge", "worker"], help=argparse.SUPPRESS)
    parser.add_argument("--wait-for-go", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging("ERROR")
    if args.role:
        run_role(args.role, args.redis_url, args.threads, args.broker_url, args.wait_for_go)
        return
    broker = args.broker_url or args.redis_url
    redis.Redis.from_url(args.redis_url).flushdb()
    raw = raw_dramatiq_rate(broker, args.events, args.threads)
    redis.Redis.from_url(args.redis_url).flushdb()
    drain = None
    if args.layout == "processes":
        drain = pipeline_drain_processes(args.redis_url, args.events, args.threads, args.broker_url)
        redis.Redis.from_url(args.redis_url).flushdb()
        measure = pipeline_rate_processes
    else:
        measure = pipeline_rate_threads
    rate, publish_rate = measure(args.redis_url, args.events, args.threads, args.broker_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    print(f"events: {args.events}, worker threads: {args.threads}, layout: {args.layout}, "
          f"broker and bus: {'RabbitMQ' if args.broker_url else 'Redis'}")
    print(f"raw Dramatiq no-op drain (baseline): {raw:8.0f} messages/s")
    if drain is not None:
        print(f"pipeline drain, bus → bridge → actor → follow-up: {drain:8.0f} events/s")
    print(f"pipeline live, published one at a time: {rate:8.0f} events/s "
          f"(publishing alone: {publish_rate:.0f} events/s)")
    if drain is not None:
        print(f"ratio drain / baseline: {drain / raw:.2f} (goal {GOAL}: {drain / raw / GOAL:.2f} of the goal)")
    print(f"ratio live / baseline: {rate / raw:.2f}")


if __name__ == "__main__":
    main()
