"""Benchmark: order download cost and speed, and how soon a new order reaches the bus.

Runs the local sandbox, a real Redis, and the bridge + workers in this process
(as ``etsyflow demo`` does), connects one shop, then measures:

1. Etsy calls per 1,000 receipts (1,000 new orders, one per second of history,
   one tick) against the minimum of 10 (100 receipts a call) — ratio 1.00 is
   the floor;
2. downloaded orders per second during that poll (tick published → last
   ``OrderDownloaded`` on the bus);
3. order latency, created on the sandbox → ``OrderDownloaded`` on the bus:
   with the webhook (Etsy's ORDER_PAID → receiver → poll), against the 2 s goal;
   and with polling only (the scheduler's ticks every ``--poll-interval`` s),
   against the expected interval / 2;
4. cancellation latency, receipt canceled on the sandbox → ``OrderUpdated``
   with ``canceled`` on the bus, polling only (Etsy leaves canceled receipts
   out of the unfiltered list; each poll asks for them): against one poll
   interval, the goal (before: the hourly reconcile).

    .venv/bin/python bench/orders.py [--receipts 1000] [--samples 8] [--poll-interval 3]
                                     [--redis-url redis://127.0.0.1:6379/12]

The Redis database given is flushed first: use a spare one. Every wait is
bounded; the whole run takes well under a minute at the defaults.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

SECRET_KEY = "bench-secret-key-0123456789abcdef"


def configure(env: dict):
    from etsyflow.config import Settings, reset_settings
    from etsyflow.messages import reset_publisher
    from etsyflow.state import reset_redis

    settings = Settings.from_env({"SECRET_KEY": SECRET_KEY, **env})
    reset_settings(settings)
    reset_redis()
    reset_publisher()
    return settings


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(values) -> str:
    return (f"median {statistics.median(values):.3f} s, p95 {percentile(values, 0.95):.3f} s, "
            f"max {max(values):.3f} s (n={len(values)})")


def wait_order(tail, receipt_id: int, timeout: float) -> float:
    """Wait for the OrderDownloaded of ``receipt_id``; returns the monotonic time it was seen."""
    tail.wait_for("OrderDownloaded", lambda e: e["data"]["order"]["receipt_id"] == receipt_id, timeout=timeout)
    return time.monotonic()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=8, help="orders timed for each latency figure")
    parser.add_argument("--poll-interval", type=float, default=3.0, help="scheduler interval (s) for the polling figure")
    parser.add_argument("--redis-url", default=os.environ.get("ETSYFLOW_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    args = parser.parse_args()

    import redis as redis_lib

    from etsyflow.config.logging import configure_logging
    from etsyflow.messages import CloudEvent, publish
    from etsyflow.messages.tail import EventTail
    from etsyflow.orders.config import OrdersConfig
    from etsyflow.runtime import Runtime
    from etsy_sandbox.config import DEFAULT_WEBHOOK_SECRET
    from etsy_sandbox.testing import run_sandbox
    from etsyflow.scheduler import Scheduler
    from etsyflow.shops.oauth import import_tokens
    from etsyflow.webhooks import PATH, create_app, serve

    configure_logging("WARNING", json=True)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per webhook request otherwise
    try:
        redis_lib.Redis.from_url(args.redis_url, socket_connect_timeout=2).flushdb()
    except redis_lib.RedisError as error:
        print(f"Redis at {args.redis_url} is not reachable: {error}", file=sys.stderr)
        return 2
    # A roomy daily quota so the scheduler keeps the configured interval (the budget is tested elsewhere).
    with run_sandbox(rate_per_second=50, rate_per_day=10_000_000) as sandbox:
        configure({"REDIS_URL": args.redis_url, **sandbox.env(), "ETSY_RATE_PER_SECOND": "50",
                   "ETSY_RATE_PER_DAY": "10000000", "WEBHOOK_SIGNING_SECRET": DEFAULT_WEBHOOK_SECRET,
                   "POLL_INTERVAL_SECONDS": str(args.poll_interval), "RECONCILE_INTERVAL_SECONDS": "86400"})
        made = sandbox.admin.create_shop(country_iso="DE", currency_code="EUR")
        shop_id = int(made["shop_id"])
        import_tokens(shop_id, made["access_token"], made["refresh_token"])
        with EventTail(["OrderDownloaded", "OrderUpdated"]) as tail, Runtime(worker_threads=4) as runtime:
            # 1 + 2: a backlog of N receipts, one tick
            n = args.receipts
            ids = sandbox.admin.bulk_receipts(shop_id, n, step_seconds=1)["receipt_ids"]
            sandbox.admin.clear_calls()
            started = time.monotonic()
            publish(CloudEvent.new("OrdersPollTick", {"shop_id": shop_id}, source="bench"))
            tail.wait_for("OrderDownloaded", count=n, timeout=60 + n / 20)
            elapsed = time.monotonic() - started
            calls = len(sandbox.admin.calls(operation_id="getShopReceipts"))
            minimum = math.ceil(n / 100)
            got = {e["data"]["order"]["receipt_id"] for e in tail.of_type("OrderDownloaded")}
            assert got == set(ids), f"{len(set(ids) - got)} orders missing"
            runtime.join(30)

            # 3a: webhook latency
            server = serve(0, "127.0.0.1", app=create_app())
            threading.Thread(target=server.serve_forever, daemon=True).start()
            sandbox.admin.webhooks(url=f"http://127.0.0.1:{server.server_port}{PATH}")
            webhook = []
            for _ in range(args.samples):
                t0 = time.monotonic()
                receipt_id = int(sandbox.admin.create_receipt(shop_id)["receipt_id"])
                webhook.append(wait_order(tail, receipt_id, 10) - t0)
                runtime.join(10)
            sandbox.admin.webhooks(url=None)
            server.shutdown()

            # 3b: polling latency (scheduler ticks only), orders created at random moments
            stop = threading.Event()
            sched = threading.Thread(target=Scheduler(config=OrdersConfig()).run, args=(stop,), daemon=True)
            sched.start()
            polling = []
            try:
                for _ in range(args.samples):
                    time.sleep(random.uniform(0, args.poll_interval))
                    t0 = time.monotonic()
                    receipt_id = int(sandbox.admin.create_receipt(shop_id)["receipt_id"])
                    polling.append(wait_order(tail, receipt_id, args.poll_interval * 3 + 10) - t0)
                # 4: cancellations, at random moments, of orders already downloaded
                canceled = []
                for receipt_id in random.sample(ids, args.samples):
                    time.sleep(random.uniform(0, args.poll_interval))
                    t0 = time.monotonic()
                    sandbox.admin.receipt_action(int(receipt_id), "cancel")
                    tail.wait_for("OrderUpdated", lambda e, r=int(receipt_id): (
                        e["data"]["order"]["receipt_id"] == r and "canceled" in e["data"]["changes"]),
                        timeout=args.poll_interval * 3 + 10)
                    canceled.append(time.monotonic() - t0)
            finally:
                stop.set()
                sched.join(10)

    print(f"orders bench: {n} receipts, sandbox over HTTP, real Redis, bridge + 4 worker threads")
    print(f"  Etsy calls for {n} receipts:   {calls}  (minimum {minimum}: ratio {calls / minimum:.2f}; "
          f"{calls * 1000 / n:.1f} per 1,000 vs 10)")
    print(f"  downloaded orders per second: {n / elapsed:.0f}  ({n} in {elapsed:.2f} s)")
    print(f"  latency with webhook:         {summary(webhook)}; ratio to the 2 s goal "
          f"{percentile(webhook, 0.95) / 2.0:.2f}")
    expected = args.poll_interval / 2
    print(f"  latency with polling only:    {summary(polling)}; mean {statistics.mean(polling):.3f} s vs "
          f"interval/2 = {expected:.2f} s: ratio {statistics.mean(polling) / expected:.2f}")
    print(f"  cancellation latency (polls): {summary(canceled)}; max vs one poll interval "
          f"{args.poll_interval:.1f} s: ratio {max(canceled) / args.poll_interval:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
