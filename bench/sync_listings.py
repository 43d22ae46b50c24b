"""Listings sync benchmark: Etsy calls used to read and link a shop that already sells,
against the fewest the API allows, and the share of the daily quota it takes.

    .venv/bin/python bench/sync_listings.py [--listings 2000] [--known 1000] [--rate 10]
                                            [--redis-url redis://127.0.0.1:6379/13]

The local Etsy sandbox (HTTP on 127.0.0.1, ``--rate`` calls/s, etsyflow's
limiter at the same rate) holds a shop with ``--listings`` listings the
seller made on Etsy.com, spread over the five states (75 % active, 12 %
inactive, 8 % draft, 4 % sold out, 1 % expired), a third with two size
variations. etsyflow knows ``--known`` upstream products; each holds the
SKUs of one listing. ``etsyflow shop sync-listings`` is then run in this
process (the same code as the command and the ``ShopListingsSync`` actor).

Goal: the minimum number of calls, ``Σ max(1, ⌈listings in state ÷ 100⌉)``
over the five states (``getListingsByShop`` with ``includes=Inventory`` is
the only read that returns inventories; one state per call, 100 per page).
Printed: calls / minimum (ratio to the goal, 1.00 = the minimum), wall time
against calls ÷ rate, and the daily quota share at 10,000 calls a day.
Without ``--redis-url`` state and bus are the embedded in-memory ones; with
it, that DB is FLUSHED first. Bounded by ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STATES = (("active", 0.75), ("inactive", 0.12), ("draft", 0.08), ("sold_out", 0.04), ("expired", 0.01))


def configure(sandbox, rate: int, redis_url: str | None):
    from etsyflow.config import Settings, reset_settings
    from etsyflow.config.logging import configure_logging
    from etsyflow.messages import reset_publisher
    from etsyflow.state import reset_redis

    env = {**sandbox.env(), "SECRET_KEY": secrets.token_hex(16), "ETSY_RATE_PER_SECOND": str(rate),
           "ETSY_RATE_PER_DAY": "10000000", "ETSY_TIMEOUT_SECONDS": "20", "LOG_LEVEL": "WARNING"}
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url, socket_timeout=5).flushdb()
        env["REDIS_URL"] = redis_url
    reset_settings(Settings.from_env(env))
    reset_redis()
    reset_publisher()
    configure_logging("WARNING", json=True)


def seed_rows(count: int) -> list[dict]:
    states = []
    for state, share in STATES:
        states += [state] * round(count * share)
    states = (states + ["active"] * count)[:count]
    rows = []
    for n, state in enumerate(states):
        quantity = 0 if state == "sold_out" else 5
        if n % 3 == 0:
            rows.append({"title": f"Tee {n}", "state": state, "price": "20.00", "quantity": quantity,
                         "variations": [{"sku": f"T{n}-{s}", "options": {"Size": s}, "price": "20.00",
                                         "quantity": quantity} for s in ("S", "M")]})
        else:
            rows.append({"title": f"Item {n}", "state": state, "price": "12.50", "quantity": quantity,
                         "sku": f"I{n}"})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--known", type=int, default=1000, help="upstream products etsyflow knows (default 1000)")
    parser.add_argument("--rate", type=int, default=10, help="Etsy calls per second, app-wide (default 10)")
    parser.add_argument("--redis-url", default=None, help="real Redis (its DB is flushed); default embedded")
    parser.add_argument("--timeout", type=float, default=600.0, help="bound on the whole run, seconds")
    args = parser.parse_args(argv)

    from etsyflow.catalogue import linking
    from etsy_sandbox.testing import run_sandbox
    from etsyflow.schemas.linking import product_skus
    from etsyflow.shops import import_tokens, shop_client
    from etsyflow.state import get_redis

    with run_sandbox(rate_per_second=args.rate, rate_per_day=10_000_000) as sandbox:
        configure(sandbox, args.rate, args.redis_url)
        made = sandbox.admin.create_shop(country_iso="US")
        shop_id = int(made["shop_id"])
        import_tokens(shop_id, made["access_token"], made["refresh_token"])
        rows = seed_rows(args.listings)
        for start in range(0, len(rows), 500):
            sandbox.admin.request("POST", f"/shops/{shop_id}/listings", {"listings": rows[start:start + 500]})
        redis = get_redis()
        for n, row in enumerate(rows[:args.known]):
            skus = [v["sku"] for v in row.get("variations") or []] or [row["sku"]]
            linking.remember_product(redis, shop_id, f"P{n}", product_skus({"sku": None, "variations": [
                {"sku": s} for s in skus]}))
        sandbox.admin.reset_counters()
        announced = []
        started = time.monotonic()
        report = linking.run(shop_id, client=shop_client(shop_id), redis=redis,
                             emit=lambda etype, data, key: announced.append(etype),
                             lock_wait_seconds=min(60.0, args.timeout))
        elapsed = time.monotonic() - started
        counters = sandbox.admin.counters()

    calls = counters.get("calls_total", 0)
    minimum = linking.minimum_calls(report.by_state)
    print(f"listings sync: {report.listings} listings "
          f"({', '.join(f'{k} {v}' for k, v in report.by_state.items())}), {args.known} known products, "
          f"Etsy limit {args.rate} calls/s")
    print(f"  calls: {calls} (by operation: {counters.get('calls_by_operation', {})}); minimum {minimum}; "
          f"ratio to goal {calls / minimum:.2f}")
    print(f"  outcome: linked {len(report.linked)}, ambiguous {len(report.ambiguous)}, "
          f"discovered {len(report.discovered)}, announcements {len(announced)}")
    floor = calls / args.rate
    print(f"  wall time {elapsed:.1f} s against calls ÷ rate {floor:.1f} s (ratio {elapsed / floor:.2f})")
    per_10k = linking.minimum_calls({"active": 10_000})
    print(f"  daily quota (10,000 calls): this sync {100 * calls / 10_000:.2f} %; a 10,000-listing shop "
          f"needs {per_10k} calls ({100 * per_10k / 10_000:.2f} %)")
    ok = calls == minimum and len(report.linked) == args.known
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
