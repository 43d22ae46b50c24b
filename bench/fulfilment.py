"""Fulfilment benchmark: shipments per second against Etsy's rate limit, and the latency
from ``OrderShipped`` published to ``ShipmentConfirmed`` received.

    .venv/bin/python bench/fulfilment.py [--shipments 60] [--rate 10] [--redis-url redis://127.0.0.1:6379/11]

Everything runs in this process: the local Etsy sandbox (HTTP on 127.0.0.1,
rate limit ``--rate`` calls/s), the worker and bridge threads, an event tail.
Without ``--redis-url`` state, broker and bus are the embedded in-memory ones.
With it, the DB is FLUSHED first: give it a DB of its own.

A new shipment costs one Etsy call (``createReceiptShipment``; the receipt is
read only when an earlier write's outcome is unknown or Etsy answers 409), so
the ceiling ("baseline") is ``rate`` shipments per second; the bench prints the
calls per shipment measured (goal 1) and achieved / ceiling.
Latency is measured three ways: one shipment at a time (unloaded); paced at
``--paced-load`` of the ceiling (a steady stream the limit can carry); and a
burst of ``--shipments`` published at once, where queueing dominates: its
floor is p50 = (N/2)/ceiling, p95 = 0.95 N/ceiling, and the ratios printed
are measured / floor. Runtime is bounded by ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CALLS_PER_SHIPMENT = 1  # the goal: one Etsy call per new shipment


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def configure(sandbox, rate: int, redis_url: str | None):
    from etsyflow.config import Settings, reset_settings
    from etsyflow.config.logging import configure_logging
    from etsyflow.messages import reset_publisher
    from etsyflow.state import reset_redis

    env = {**sandbox.env(), "SECRET_KEY": secrets.token_hex(16), "ETSY_RATE_PER_SECOND": str(rate),
           "ETSY_TIMEOUT_SECONDS": "5", "LOG_LEVEL": "WARNING"}
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url, socket_timeout=5).flushdb()
        env["REDIS_URL"] = redis_url
    reset_settings(Settings.from_env(env))
    reset_redis()
    reset_publisher()
    configure_logging("WARNING", json=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shipments", type=int, default=60, help="parcels published at once (default 60)")
    parser.add_argument("--unloaded", type=int, default=5, help="parcels sent one at a time first (default 5)")
    parser.add_argument("--paced", type=int, default=30, help="parcels sent at a steady pace (default 30)")
    parser.add_argument("--paced-load", type=float, default=0.8,
                        help="the steady pace as a share of the ceiling (default 0.8)")
    parser.add_argument("--rate", type=int, default=10, help="Etsy calls per second, app-wide (default 10)")
    parser.add_argument("--workers", type=int, default=8, help="worker threads (default 8)")
    parser.add_argument("--redis-url", default=None, help="real Redis (its DB is flushed); default embedded")
    parser.add_argument("--timeout", type=float, default=180.0, help="bound on the whole run, seconds")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout

    from etsyflow.messages import CloudEvent, publish
    from etsyflow.messages.tail import EventTail
    from etsyflow.runtime import Runtime
    from etsy_sandbox.testing import run_sandbox
    from etsyflow.shops import import_tokens

    received: dict[str, float] = {}
    outcome: dict[str, str] = {}
    lock = threading.Condition()

    def on_event(event: dict) -> None:
        if event.get("type") in ("ShipmentConfirmed", "ShipmentRejected"):
            with lock:
                received.setdefault(event.get("causationid"), time.monotonic())
                outcome.setdefault(event.get("causationid"), event["type"])
                lock.notify_all()

    def wait(ids: list[str]) -> bool:
        with lock:
            while not all(i in received for i in ids):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                lock.wait(min(remaining, 0.5))
            return True

    with run_sandbox(rate_per_second=args.rate, rate_per_day=10_000_000) as sandbox:
        configure(sandbox, args.rate, args.redis_url)
        made = sandbox.admin.create_shop()
        shop_id = int(made["shop_id"])
        import_tokens(shop_id, made["access_token"], made["refresh_token"])
        total = args.unloaded + args.paced + args.shipments
        receipts = [int(sandbox.admin.create_receipt(shop_id, country_iso="GB")["receipt_id"]) for _ in range(total)]

        def event(receipt_id: int, n: int) -> CloudEvent:
            return CloudEvent.new("OrderShipped", {
                "shop_id": shop_id, "receipt_id": receipt_id, "carrier": "Royal Mail",
                "tracking_number": f"BN{n:09d}GB", "shipped_at": "2026-11-29T16:05:00Z"}, source="bench")

        with EventTail(types=["ShipmentConfirmed", "ShipmentRejected"], on_event=on_event), \
                Runtime(worker_threads=args.workers):
            unloaded: list[float] = []
            for n, receipt_id in enumerate(receipts[:args.unloaded]):
                started = time.monotonic()
                sent = publish(event(receipt_id, n))
                if not wait([sent.id]):
                    print("timed out in the unloaded phase", file=sys.stderr)
                    return 2
                unloaded.append(received[sent.id] - started)

            ceiling = args.rate / CALLS_PER_SHIPMENT
            gap = 1.0 / (ceiling * args.paced_load)
            paced: dict[str, float] = {}
            next_at = time.monotonic()
            first = args.unloaded
            for n, receipt_id in enumerate(receipts[first:first + args.paced], start=first):
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)  # pacing the publisher, not waiting for a result
                paced[publish(event(receipt_id, n)).id] = time.monotonic()
                next_at += gap
            if not wait(list(paced)):
                print("timed out in the paced phase", file=sys.stderr)
                return 2
            paced_latencies = [received[i] - t for i, t in paced.items()]

            sandbox.admin.reset_counters()
            published: dict[str, float] = {}
            started = time.monotonic()
            first = args.unloaded + args.paced
            for n, receipt_id in enumerate(receipts[first:], start=first):
                t = time.monotonic()
                published[publish(event(receipt_id, n)).id] = t
            finished = wait(list(published))
            elapsed = max((received.get(i, time.monotonic()) for i in published), default=0) - started
            counters = sandbox.admin.counters()

        done = [i for i in published if i in received]
        confirmed = [i for i in done if outcome[i] == "ShipmentConfirmed"]
        latencies = [received[i] - published[i] for i in done]
        on_etsy = sum(len(sandbox.admin.receipt(r)["receipt"]["shipments"])
                      for r in receipts[args.unloaded + args.paced:])

    rate = len(confirmed) / elapsed if elapsed > 0 else float("nan")
    calls = counters.get("calls_by_operation", {})
    p50u, p50, p95 = statistics.median(unloaded), percentile(latencies, 50), percentile(latencies, 95)
    p50p, p95p = percentile(paced_latencies, 50), percentile(paced_latencies, 95)
    n = args.shipments
    floor50, floor95 = (n / 2) / ceiling, 0.95 * n / ceiling
    print("fulfilment benchmark")
    print(f"  mode                      : {'real Redis ' + args.redis_url if args.redis_url else 'embedded'}, "
          f"{args.workers} worker threads, Etsy limit {args.rate} calls/s")
    print(f"  shipments                 : {len(confirmed)}/{args.shipments} confirmed"
          f"{'' if finished else ' (TIMED OUT)'}, {on_etsy} on Etsy (duplicates: {on_etsy - len(confirmed)})")
    print(f"  Etsy calls                : getShopReceipt {calls.get('getShopReceipt', 0)}, "
          f"createReceiptShipment {calls.get('createReceiptShipment', 0)}, "
          f"429s {counters.get('status_counts', {}).get('429', 0)}")
    used = sum(calls.values())
    per_shipment = used / len(confirmed) if confirmed else float("nan")
    print(f"  calls per shipment        : {per_shipment:.2f} (goal {CALLS_PER_SHIPMENT}: ratio "
          f"{per_shipment / CALLS_PER_SHIPMENT:.2f})")
    print(f"  burst throughput          : {rate:.2f} shipments/s in {elapsed:.1f} s")
    print(f"  ceiling (rate/{CALLS_PER_SHIPMENT} call)     : {ceiling:.2f} shipments/s = the rate limit")
    print(f"  ratio to ceiling          : {rate / ceiling:.2f}")
    print(f"  latency unloaded p50      : {p50u * 1000:.0f} ms ({len(unloaded)} one at a time)")
    print(f"  latency paced p50/p95     : {p50p * 1000:.0f} / {p95p * 1000:.0f} ms "
          f"({args.paced} at {args.paced_load:.0%} of the ceiling); p50 ratio to unloaded {p50p / p50u:.2f}")
    print(f"  latency burst p50/p95     : {p50 * 1000:.0f} / {p95 * 1000:.0f} ms ({n} at once)")
    print(f"  burst queueing floor      : {floor50 * 1000:.0f} / {floor95 * 1000:.0f} ms; "
          f"ratio {p50 / floor50:.2f} / {p95 / floor95:.2f}")
    return 0 if finished and on_etsy == len(confirmed) == args.shipments else 1


if __name__ == "__main__":
    raise SystemExit(main())
