"""A nightly full republish: every product sent again, unchanged.

    .venv/bin/python bench/republish.py [--products 10000] [--workers 8] [--redis-url redis://127.0.0.1:6379/12]

The sandbox (Etsy) runs in a process of its own (bench/sandbox_process.py);
the bridge, the worker threads, the publisher and an event tail run in this
one (``etsyflow demo``'s layout, one GIL). First ``--products`` draft
listings (no images, no variations: one Etsy call each) are created through
the pipeline (not timed); then the same ``ListingReady`` events are
published again and the time runs until the last ``ListingPublished``.

Prints: Etsy calls during the republish (goal 0), events/s (goal ≥ 1,000)
and the ratio to that goal, and this process's memory (resident set before
and after the republish, and its peak; the workers run in it). With
``--redis-url`` that DB is FLUSHED first.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_EVENTS_PER_SECOND = 1000


def memory_mib(pid="self", field="VmRSS") -> float:
    """A process's resident set now (``VmRSS``) or its peak (``VmHWM``), MiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def redis_commands(url: str | None) -> int:
    """Commands the Redis server has run so far (0 without a real Redis)."""
    if not url:
        return 0
    import redis

    return sum(v["calls"] for v in redis.Redis.from_url(url).info("commandstats").values())


def product(shop_id: int, n: int) -> dict:
    return {"shop_id": shop_id, "product_id": f"nightly-{n}", "title": f"Nightly mug {n}",
            "description": "A mug, published every night.", "price": "12.50", "currency": "USD",
            "quantity": 3, "sku": f"N-{n:05d}", "taxonomy_id": 1002, "who_made": "i_did",
            "when_made": "2020_2026", "delivery_template_id": "nightly", "state": "draft",
            "tags": ["nightly"], "materials": ["clay"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8, help="worker threads (default 8)")
    parser.add_argument("--redis-url", default=None, help="real Redis (its DB is flushed); default embedded")
    parser.add_argument("--timeout", type=float, default=900.0, help="bound on the whole run, seconds")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout

    from bench.listings import configure
    from bench.sandbox_process import sandbox_process
    from etsyflow.messages import CloudEvent, publish
    from etsyflow.messages.tail import EventTail
    from etsyflow.runtime import Runtime
    from etsyflow.shops import import_tokens

    answered: dict[str, dict] = {}

    def on_event(event: dict) -> None:
        answered[event.get("causationid")] = event  # one writer: the tail's thread

    def wait(ids: list[str]) -> bool:
        """Bounded: polls every 50 ms (a check per answer would cost O(n²) over 10,000 events)."""
        waiting = set(ids)
        while True:
            waiting = {i for i in waiting if i not in answered}
            if not waiting:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    with sandbox_process(rate_per_second=5000, rate_per_day=10_000_000) as sandbox:
        configure(sandbox, 5000, args.redis_url)
        made = sandbox.admin.create_shop(country_iso="US")
        shop_id = int(made["shop_id"])
        import_tokens(shop_id, made["access_token"], made["refresh_token"])
        products = [product(shop_id, n) for n in range(args.products)]
        types = ["DeliveryTemplateSynced", "ListingPublished", "ListingRejected", "EventRejected"]
        with EventTail(types=types, on_event=on_event), Runtime(worker_threads=args.workers):
            template = publish(CloudEvent.new("DeliveryTemplateReady", {
                "shop_id": shop_id, "template_id": "nightly", "title": "Nightly", "origin_country_iso": "US",
                "origin_postal_code": "10001", "processing_min_days": 1, "processing_max_days": 3,
                "destinations": [{"country_iso": "US", "primary_cost": "4.00", "secondary_cost": "1.00",
                                  "min_delivery_days": 2, "max_delivery_days": 5}]}, source="bench"))
            if not wait([template.id]):
                print("the delivery template was not synced in time", file=sys.stderr)
                return 2
            seeded = [publish(CloudEvent.new("ListingReady", p, source="bench")).id for p in products]
            if not wait(seeded):
                print("the listings were not created in time", file=sys.stderr)
                return 2
            refused = [answered[i] for i in seeded if answered[i]["type"] != "ListingPublished"]
            if refused:
                print(f"{len(refused)} products refused: {refused[0]['data']}", file=sys.stderr)
                return 2
            sandbox.admin.reset_counters()
            commands_before = redis_commands(args.redis_url)
            before = memory_mib()
            started = time.monotonic()
            again = [publish(CloudEvent.new("ListingReady", p, source="bench")).id for p in products]
            published_in = time.monotonic() - started
            finished = wait(again)
            elapsed = time.monotonic() - started
            after = memory_mib()
            peak = memory_mib(field="VmHWM")
            redis_used = redis_commands(args.redis_url) - commands_before
            counters = sandbox.admin.counters()

    changed = [answered[i] for i in again if i in answered and answered[i]["data"].get("changed")]
    calls = counters.get("calls_total", 0)
    rate = len(again) / elapsed
    print("nightly republish benchmark")
    print(f"  mode          : {'real Redis ' + args.redis_url if args.redis_url else 'embedded'}, "
          f"{args.workers} worker threads; bridge, workers, publisher and tail in one process")
    print(f"  products      : {args.products}, unchanged{'' if finished else ' (TIMED OUT)'}; "
          f"reported changed: {len(changed)}")
    print(f"  Etsy calls    : {calls} (goal 0)")
    print(f"  time          : {elapsed:.1f} s (publishing alone {published_in:.1f} s)")
    print(f"  throughput    : {rate:.0f} events/s; goal {GOAL_EVENTS_PER_SECOND}: ratio "
          f"{rate / GOAL_EVENTS_PER_SECOND:.2f}")
    if args.redis_url:
        print(f"  Redis         : {redis_used / len(again):.1f} commands per event (all clients, Lua included)")
    whose = f"this process: bridge, workers, tail, {args.products} events kept for the check"
    print(f"  memory        : {before:.0f} MiB before, {after:.0f} MiB after, peak {peak:.0f} MiB ({whose})")
    return 0 if finished and calls == 0 and not changed else 1


if __name__ == "__main__":
    raise SystemExit(main())
