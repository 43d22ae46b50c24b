"""Listings benchmark: Etsy calls used against the minimum the API allows, and wall time
against calls ÷ rate limit.

    .venv/bin/python bench/listings.py [--listings 200] [--images 3] [--variations 4] [--rate 50]
                                       [--redis-url redis://127.0.0.1:6379/13]

The local Etsy sandbox (HTTP on 127.0.0.1, limited to ``--rate`` calls/s, and
etsyflow's own limiter set to the same ``ETSY_RATE_PER_SECOND``) runs in a
process of its own, as Etsy is remote (``--sandbox thread``: in this
process; see bench/sandbox_process.py); a local image server, the worker and
bridge threads and an event tail run in this process. Without ``--redis-url`` state, broker and bus are
the embedded in-memory ones; with it, that DB is FLUSHED first.

Phases:

1. template: one delivery template with two destinations (minimum 3 calls:
   processing profile, shipping profile, one extra destination).
2. create: ``--listings`` products published at once, each with ``--images`` images and ``--variations`` variations
   (2 options). The minimum per listing is createDraftListing + one
   uploadListingImage per image + one updateListingInventory + one
   updateListing (activation); once per run: the shop (its currency must be
   the prices' currency), the category's properties, the shop's return
   policies and the shop's first listings sync (5 reads for an empty shop).
3. republish: the same products again, unchanged: the minimum is 0 calls.
4. stock: one StockChanged per listing: the minimum is 2 calls each
   (read the matrix, write it whole).

For each phase: calls used / minimum (ratio), and wall time / (calls ÷ rate)
(ratio; 1.00 means the rate limit was the only thing that took time).
Runtime is bounded by ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DESTINATIONS = 2


def configure(sandbox, rate: int, redis_url: str | None):
    from etsyflow.config import Settings, reset_settings
    from etsyflow.config.logging import configure_logging
    from etsyflow.messages import reset_publisher
    from etsyflow.state import reset_redis

    env = {**sandbox.env(), "SECRET_KEY": secrets.token_hex(16), "ETSY_RATE_PER_SECOND": str(rate),
           "ETSY_RATE_PER_DAY": "10000000", "ETSY_TIMEOUT_SECONDS": "10", "LOG_LEVEL": "WARNING",
           # the benchmark's image server is on loopback, which image URLs may not reach by default
           "IMAGE_ALLOWED_NETWORKS": "127.0.0.1/32"}
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url, socket_timeout=5).flushdb()
        env["REDIS_URL"] = redis_url
    reset_settings(Settings.from_env(env))
    reset_redis()
    reset_publisher()
    configure_logging("WARNING", json=True)
    return env


class ImageServer:
    """``/<n>.png``: a small PNG of its own colour per n."""

    def __init__(self):
        from etsy_sandbox.images import tiny_png

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                n = int(self.path.strip("/").split(".")[0] or 0)
                body = tiny_png(8, 8, ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def product(shop_id: int, n: int, images: str, image_count: int, variation_count: int) -> dict:
    sizes = ["S", "M", "L", "XL", "XXL"]
    colors = ["Blue", "Red", "Green", "Black", "White"]
    combos = [(c, s) for c in colors for s in sizes][:variation_count]
    variations = [{"sku": f"B{n:04d}-{i}", "options": {"Color": c, "Size": s},
                   "price": f"{20 + i}.00", "quantity": 1 + i} for i, (c, s) in enumerate(combos)]
    return {
        "shop_id": shop_id, "product_id": f"bench-{n}", "title": f"Bench dress {n}",
        "description": "A dress for the benchmark.", "price": "20.00", "currency": "USD", "quantity": 1,
        "taxonomy_id": 374, "who_made": "i_did", "when_made": "2020_2026", "delivery_template_id": "bench",
        "images": [{"url": f"{images}/{n * 10 + i}.png", "alt_text": f"view {i + 1}"} for i in range(image_count)],
        "tags": ["bench"], "materials": ["linen"], "variations": variations, "state": "active",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=200)
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--variations", type=int, default=4)
    parser.add_argument("--rate", type=int, default=50, help="Etsy calls per second, app-wide (default 50)")
    parser.add_argument("--workers", type=int, default=8, help="worker threads (default 8)")
    parser.add_argument("--redis-url", default=None, help="real Redis (its DB is flushed); default embedded")
    parser.add_argument("--timeout", type=float, default=280.0, help="bound on the whole run, seconds")
    parser.add_argument("--sandbox", choices=["process", "thread"], default="process",
                        help="the sandbox in a process of its own (default, as Etsy is remote) or in this one")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout

    from etsyflow.messages import CloudEvent, publish
    from etsyflow.messages.tail import EventTail
    from etsyflow.runtime import Runtime
    from etsy_sandbox.testing import run_sandbox
    from etsyflow.shops import import_tokens

    answers: dict[str, dict] = {}
    cond = threading.Condition()

    def on_event(event: dict) -> None:
        with cond:
            answers.setdefault(event.get("causationid"), event)
            cond.notify_all()

    def wait(ids: list[str]) -> bool:
        with cond:
            while not all(i in answers for i in ids):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                cond.wait(min(remaining, 0.5))
            return True

    images = ImageServer()
    results = []
    try:
        from bench.sandbox_process import sandbox_process

        run = sandbox_process if args.sandbox == "process" else run_sandbox
        with run(rate_per_second=args.rate, rate_per_day=10_000_000) as sandbox:
            configure(sandbox, args.rate, args.redis_url)
            made = sandbox.admin.create_shop(country_iso="US")
            shop_id = int(made["shop_id"])
            import_tokens(shop_id, made["access_token"], made["refresh_token"])
            types = ["DeliveryTemplateSynced", "ListingPublished", "ListingRejected", "EventRejected",
                     "StockUpdated", "StockRejected"]
            with EventTail(types=types, on_event=on_event), Runtime(worker_threads=args.workers):
                def phase(name, events, minimum):
                    sandbox.admin.reset_counters()
                    started = time.monotonic()
                    ids = [publish(e).id for e in events]
                    finished = wait(ids)
                    elapsed = time.monotonic() - started
                    counters = sandbox.admin.counters()
                    bad = [answers[i] for i in ids if i in answers and answers[i]["type"].endswith("Rejected")]
                    results.append((name, len(ids), finished, elapsed, counters, minimum, bad))
                    return finished and not bad

                template = CloudEvent.new("DeliveryTemplateReady", {
                    "shop_id": shop_id, "template_id": "bench", "title": "Bench shipping",
                    "origin_country_iso": "US", "origin_postal_code": "10001",
                    "processing_min_days": 1, "processing_max_days": 3,
                    "destinations": [{"country_iso": "US", "primary_cost": "4.00", "secondary_cost": "1.00",
                                      "min_delivery_days": 2, "max_delivery_days": 5},
                                     {"region": "eu", "primary_cost": "12.00", "secondary_cost": "3.00",
                                      "min_delivery_days": 5, "max_delivery_days": 12}][:DESTINATIONS]},
                    source="bench")
                products = [product(shop_id, n, images.url, args.images, args.variations)
                            for n in range(args.listings)]
                per_listing = 1 + args.images + (1 if args.variations else 0) + 1
                # processing profile + shipping profile + one call per extra destination
                ok = phase("template", [template], 2 + (DESTINATIONS - 1))
                # + once per run: the shop (its currency), the category's properties, its return policies,
                # and the shop's first listings sync (an empty shop: one page per state, 5 states)
                ok = ok and phase("create", [CloudEvent.new("ListingReady", p, source="bench") for p in products],
                                  args.listings * per_listing + 3 + 5)
                ok = ok and phase("republish", [CloudEvent.new("ListingReady", p, source="bench")
                                                for p in products], 0)
                ok = ok and phase("stock", [CloudEvent.new("StockChanged", {
                    "shop_id": shop_id, "sku": p["variations"][0]["sku"] if p["variations"] else p["sku"],
                    "quantity": 9}, source="bench") for p in products], 2 * args.listings)
                created = sandbox.admin.calls(operation_id="createDraftListing", limit=100000)
                listings_on_etsy = len([c for c in created if c.get("status") in (200, 201)
                                        and f"/shops/{shop_id}/" in c.get("path", "")])
    finally:
        images.stop()

    print("listings benchmark")
    print(f"  mode        : {'real Redis ' + args.redis_url if args.redis_url else 'embedded'}, "
          f"{args.workers} worker threads, Etsy limit {args.rate} calls/s")
    print(f"  products    : {args.listings} × {args.images} images × {args.variations} variations; "
          f"{listings_on_etsy} listings on Etsy")
    status = 0
    for name, count, finished, elapsed, counters, minimum, bad in results:
        calls = counters.get("calls_total", 0)
        by_op = counters.get("calls_by_operation", {})
        throttled = counters.get("status_counts", {}).get("429", 0)
        ideal = calls / args.rate
        call_ratio = f"{calls / minimum:.3f}" if minimum else ("1.000 (0 = 0)" if calls == 0 else "inf")
        time_ratio = f"{elapsed / ideal:.2f}" if ideal else "n/a (no calls)"
        print(f"  [{name}] {count} events{'' if finished else ' (TIMED OUT)'}"
              f"{f', {len(bad)} REJECTED: ' + bad[0]['data'].get('reason', '') if bad else ''}")
        print(f"     Etsy calls : {calls} used, minimum {minimum}, ratio {call_ratio}; 429s {throttled}")
        print(f"     by call    : {', '.join(f'{k} {v}' for k, v in sorted(by_op.items()))}")
        print(f"     wall time  : {elapsed:.1f} s; calls ÷ rate = {ideal:.1f} s; ratio {time_ratio}")
        if not finished or bad:
            status = 1
    if listings_on_etsy != args.listings:
        print(f"  DUPLICATES or MISSING: {listings_on_etsy} listings for {args.listings} products")
        status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
