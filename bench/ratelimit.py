"""Benchmark: how much of Etsy's per-second quota the shared rate limiter uses.

Runs the local sandbox with a per-second limit, connects one shop, then lets
P worker processes x T threads call ``getMe`` as fast as the limiter allows
for a bounded time, for P = 1 and P = 2. Prints achieved calls/s, the ratio
to the configured limit (the baseline: 1.00 is the whole quota; goal ≥ 0.95),
the sandbox's 429 count (must be 0) and its peak calls in any one second.

``--latency S`` makes Etsy take S seconds over each call after counting it
(the sandbox holds every answer back, as a listing call with images does:
about 0.25 s), so the limiter is measured with calls that take time:

    .venv/bin/python bench/ratelimit.py [--per-second 20] [--duration 10] [--threads 4] [--latency 0.25]
                                        [--redis-url redis://127.0.0.1:6379/14]

Needs a real Redis (the limiter is shared through it).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def _worker(env: dict, prefix: str, shop_id: int, threads: int, duration: float, ready, go, results) -> None:
    """One worker process: ``threads`` threads calling getMe for ``duration`` seconds."""
    from etsyflow.config import Settings
    from etsyflow.config.logging import configure_logging
    from etsyflow.etsy import RateLimited
    from etsyflow.shops import shop_client
    from etsyflow.state.connection import make_client

    configure_logging("WARNING", json=True)
    settings = Settings.from_env(env)
    redis = make_client(settings.redis_url)
    counts = {"ok": 0, "rate_limited": 0, "errors": 0}
    lock = threading.Lock()
    ready.put(os.getpid())
    if not go.wait(60):
        results.put({"error": "never started"})
        return
    end = time.monotonic() + duration

    def run() -> None:
        client = shop_client(shop_id, settings, redis, prefix=prefix)
        while time.monotonic() < end:
            try:
                client.get_me()
                kind = "ok" if time.monotonic() <= end else None
            except RateLimited:
                kind = "rate_limited"
            except Exception:  # counted, reported; the bench goes on
                kind = "errors"
            if kind:
                with lock:
                    counts[kind] += 1

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(duration + 60)
    results.put(counts)


def hammer(env: dict, *, prefix: str, shop_id: int, processes: int, threads: int, duration: float) -> dict:
    """Run ``processes`` x ``threads`` callers for ``duration`` s; returns counts summed over processes."""
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_worker, args=(env, prefix, shop_id, threads, duration, ready, go, results))
             for _ in range(processes)]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            ready.get(timeout=60)
        go.set()
        totals = {"ok": 0, "rate_limited": 0, "errors": 0}
        for _ in procs:
            counts = results.get(timeout=duration + 90)
            if "error" in counts:
                raise RuntimeError(counts["error"])
            for key in totals:
                totals[key] += counts[key]
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.terminate()
    totals["seconds"] = duration
    totals["per_second"] = totals["ok"] / duration
    return totals


GOAL = 0.95  # calls/s ÷ limit, with 0 × 429


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-second", type=int, default=20, help="quota: calls per second (sandbox and etsyflow)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds Etsy takes over each call")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args(argv)

    import redis as redis_lib

    from etsyflow.config import Settings
    from etsyflow.config.logging import configure_logging
    from etsy_sandbox.testing import run_sandbox
    from etsyflow.shops import ShopStore, import_tokens
    from etsyflow.state.connection import make_client

    try:
        redis_lib.Redis.from_url(args.redis_url, socket_connect_timeout=2).ping()
    except Exception as error:
        print(f"Redis at {args.redis_url} is not reachable: {error}", file=sys.stderr)
        return 2
    configure_logging("WARNING", json=True)
    prefix = f"etsyflow-bench-{secrets.token_hex(4)}"
    with run_sandbox(rate_per_second=args.per_second, rate_per_day=10_000_000) as sandbox:
        env = {**sandbox.env(), "REDIS_URL": args.redis_url, "SECRET_KEY": secrets.token_urlsafe(32),
               "ETSY_RATE_PER_SECOND": str(args.per_second), "ETSY_RATE_PER_DAY": "10000000",
               "ETSY_TIMEOUT_SECONDS": "5"}
        settings = Settings.from_env(env)
        redis = make_client(args.redis_url)
        shop = sandbox.admin.create_shop()
        import_tokens(shop["shop_id"], shop["access_token"], shop["refresh_token"],
                      store=ShopStore(redis, settings, prefix=prefix))
        if args.latency:
            sandbox.admin.add_fault(operation="getMe", kind="delay", when="after", delay_seconds=args.latency)
        print(f"configured limit: {args.per_second} calls/s; {args.threads} threads per process; "
              f"{args.duration:g} s per run; Etsy takes {args.latency:g} s per call; goal: ratio ≥ {GOAL}")
        print(f"{'processes':>9}  {'calls':>6}  {'calls/s':>8}  {'ratio':>6}  {'429s':>5}  {'peak/s':>6}  "
              f"{'local waits>max':>15}  {'errors':>6}")
        try:
            for processes in (1, 2):
                sandbox.admin.reset_counters()
                time.sleep(1.1)  # let the previous run's slots age out of both windows
                result = hammer(env, prefix=prefix, shop_id=shop["shop_id"], processes=processes,
                                threads=args.threads, duration=args.duration)
                counters = sandbox.admin.counters()
                print(f"{processes:>9}  {result['ok']:>6}  {result['per_second']:>8.2f}  "
                      f"{result['per_second'] / args.per_second:>6.2f}  {counters['rate_limited_429']:>5}  "
                      f"{counters['peak_per_second']:>6}  {result['rate_limited']:>15}  {result['errors']:>6}")
        finally:
            keys = list(redis.scan_iter(f"{prefix}:*"))
            if keys:
                redis.delete(*keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
