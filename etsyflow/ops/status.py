"""``etsyflow status``: what is flowing, what is stuck, and the Etsy budget, in one look.

:func:`gather` collects a plain dict (the ``--json`` output); :func:`render`
turns it into the terminal table. Times are epoch seconds in the dict.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from ..catalogue.linking import status as listings_sync
from ..config import get_settings
from ..etsy.ratelimit import RateLimiter
from ..orders.store import OrderState
from ..shops import ShopStore
from ..state import get_redis
from ..workers import parked_count
from ..workers.parking import oldest_parked_at
from ..workers.deadletters import DeadLetterQueue
from ..workers.queues import queue_counts


def gather(settings=None, *, redis=None) -> dict:
    """Queues, shops and quota as one JSON-ready dict."""
    settings = settings or get_settings()
    if redis is None:
        redis = get_redis()
    queues = [q.as_dict() for q in queue_counts(settings)]
    shops = []
    for shop in ShopStore(redis, settings).list_shops():
        orders = OrderState(shop.shop_id, redis)
        shops.append({
            "shop_id": shop.shop_id, "shop_name": shop.shop_name, "token_status": shop.token_status,
            "auth_failed_reason": shop.auth_failed_reason, "token_expires_at": shop.expires_at,
            "last_poll_at": shop.last_poll_at, "order_cursor": orders.cursor(),
            "known_receipts": orders.seen_count(), "parked": parked_count(shop.shop_id),
            "listings_sync": listings_sync(redis, shop.shop_id),
            "oldest_parked_at": oldest_parked_at(shop.shop_id),
        })
    dead_by_shop: dict[str, int] = {}
    if any(q["dead"] for q in queues):
        for letter in DeadLetterQueue(settings, state=redis).list():
            dead_by_shop[str(letter.shop_id)] = dead_by_shop.get(str(letter.shop_id), 0) + 1
    for shop in shops:
        shop["dead_lettered"] = dead_by_shop.get(str(shop["shop_id"]), 0)
    return {
        "at": time.time(),
        "broker": "rabbitmq" if (settings.effective_broker_url or "").startswith("amqp") else "redis",
        "queues": queues,
        "shops": shops,
        "quota": RateLimiter(redis, settings).status(),
        "parking": {"max_per_shop": settings.parked_max_per_shop, "max_age_seconds": settings.parked_max_age_seconds},
    }


# -- the terminal view ----------------------------------------------------------------

def _listings_sync(shop_id, sync: dict, now: float) -> str:
    """One line: a running sync's progress, or the last one's outcome."""
    if sync.get("status") == "running":
        read, total = sync.get("read") or 0, sync.get("total") or 0
        share = f" ({100 * read // total} %)" if total else ""
        return (f"shop {shop_id}: listings sync running, {read} of {total or '?'} listings read{share}, "
                f"started {_when(sync.get('started_at'), now)}")
    if sync.get("status") == "failed":
        return f"shop {shop_id}: listings sync failed {_when(sync.get('finished_at'), now)}: {sync.get('error')}"
    return (f"shop {shop_id}: listings synced {_when(sync.get('finished_at'), now)}: "
            f"{sync.get('listings', 0)} listings in {sync.get('calls', 0)} calls; linked {sync.get('linked', 0)}, "
            f"ambiguous {sync.get('ambiguous', 0)}, discovered {sync.get('discovered', 0)}")


def _when(epoch: float | None, now: float) -> str:
    if not epoch:
        return "never"
    stamp = datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return f"{stamp} ({_ago(epoch - now)})"


def _ago(delta: float) -> str:
    ahead = delta >= 0
    seconds = abs(delta)
    if seconds < 90:
        text = f"{seconds:.0f} s"
    elif seconds < 5400:
        text = f"{seconds / 60:.0f} min"
    elif seconds < 172800:
        text = f"{seconds / 3600:.1f} h"
    else:
        text = f"{seconds / 86400:.1f} d"
    return f"in {text}" if ahead else f"{text} ago"


def table(headers: list[str], rows: list[list]) -> list[str]:
    cells = [[str("-" if v is None else v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def render(status: dict) -> str:
    now = status["at"]
    out = [f"Queues ({status['broker']} broker)"]
    rows = []
    for q in status["queues"]:
        in_flight = "n/a" if q["in_flight"] is None else q["in_flight"]
        if q.get("orphaned"):
            back = q.get("orphans_return_at")
            when = f", back in the queue within {max(1, round(back - now))} s" if back else ""
            in_flight = f"{in_flight} (+{q['orphaned']} held by dead workers{when})"
        rows.append([q["queue"], q["ready"], in_flight, q["delayed"], q["dead"]])
    out += ["  " + line for line in table(["queue", "ready", "in flight", "delayed", "dead-lettered"], rows)]
    dead = sum(q["dead"] for q in status["queues"])
    if dead:
        out.append(f"  {dead} dead-lettered message(s): `etsyflow dlq list` shows why, `etsyflow dlq replay` "
                   "retries them once the cause is fixed.")
    out.append("")
    out.append("Shops")
    if not status["shops"]:
        out.append("  no shop connected (`etsyflow shop connect --shop-id N`)")
    else:
        rows = []
        for s in status["shops"]:
            token = s["token_status"]
            if token == "ok":
                token = f"ok, expires {_when(s['token_expires_at'], now)}"
            cursor = s["order_cursor"]
            cursor_text = "-" if cursor is None else datetime.fromtimestamp(cursor, timezone.utc).strftime(
                "%Y-%m-%d %H:%M:%SZ")
            rows.append([s["shop_id"], s["shop_name"] or "", token, _when(s["last_poll_at"], now), cursor_text,
                         s["parked"], s["dead_lettered"]])
        out += ["  " + line for line in table(
            ["shop", "name", "token", "last successful poll", "order cursor", "parked", "dead"], rows)]
        for s in status["shops"]:
            sync = s.get("listings_sync")
            if sync:
                out.append("  " + _listings_sync(s["shop_id"], sync, now))
        for s in status["shops"]:
            if s["token_status"] != "ok":
                oldest = s.get("oldest_parked_at")
                since = f", the oldest parked {_ago(oldest - now)}" if oldest else ""
                out.append(f"  shop {s['shop_id']}: {s['auth_failed_reason'] or 'tokens no longer work'}; "
                           f"reconnect with `etsyflow shop connect --shop-id {s['shop_id']}` "
                           f"({s['parked']} message(s) wait for it{since}; kept at most "
                           f"{status.get('parking', {}).get('max_per_shop', '?')} per shop for "
                           f"{_ago(status.get('parking', {}).get('max_age_seconds', 0)).removeprefix('in ')})")
    q = status["quota"]
    out.append("")
    out.append("Etsy quota (whole deployment)")
    out.append(f"  remaining today: {q['remaining_today']} of {q['effective_per_day']} "
               f"(used {q['used_today']} in the last 24 h; Etsy reports "
               f"{'-' if q['etsy_remaining_today'] is None else q['etsy_remaining_today']})")
    out.append(f"  per second: {q['effective_per_second']} (configured {q['configured_per_second']})")
    if q["daily_blocked_seconds"]:
        out.append(f"  BLOCKED for the day: next call in {q['daily_blocked_seconds']:.0f} s")
    elif q["blocked_seconds"]:
        out.append(f"  paused after a 429: {q['blocked_seconds']:.1f} s left")
    return "\n".join(out)
