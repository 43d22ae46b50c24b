"""``etsyflow demo``: the whole flow, end to end, in one process on embedded parts.

Nothing needs to be installed or configured: the Etsy sandbox runs in a
thread, state and broker are an in-memory Redis (fakeredis), the bus is
kombu's memory transport. The demo connects a shop through the real OAuth 2.0
PKCE flow, then plays an upstream system: a delivery template, a listing with
variations and images, the same listing again (no Etsy writes), a stock
change, a buyer's order, the warehouse's shipment, and one broken event. Every
event that passes on the bus is printed as a timeline.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
import threading
import time
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from .config import Settings, reset_settings
from .messages import CloudEvent, publish, reset_publisher
from .messages.tail import EventTail
from .state import reset_redis

# Every wait in the demo is bounded by this many seconds.
STEP_TIMEOUT_SECONDS = 30


class _ImageServer:
    """Serves three small PNG images as an upstream media server would."""

    def __init__(self):
        from .sandbox.images import tiny_png

        colours = {"red": (200, 30, 30), "green": (30, 160, 60), "blue": (30, 60, 200)}
        images = {f"/{name}.png": tiny_png(64, 64, rgb) for name, rgb in colours.items()}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                body = images.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "image/png" if body else "text/plain")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _print_event(echo, started: float):
    from .messages.tail import format_line

    def show(event: dict) -> None:
        echo(f"  +{time.monotonic() - started:6.2f}s  {format_line(event)[14:]}")

    return show


def run(echo=print) -> dict:
    """Run the demo; returns a summary (event counts, Etsy calls). Raises on a step that never completes."""
    from .runtime import Runtime
    from .sandbox.testing import run_sandbox
    from .shops.oauth import complete, connect

    started = time.monotonic()
    with ExitStack() as stack:
        sandbox = stack.enter_context(run_sandbox(rate_per_second=20))
        images = _ImageServer()
        stack.callback(images.close)
        env = {**sandbox.env(), "SECRET_KEY": secrets.token_urlsafe(32),
               "ETSY_REDIRECT_URI": "http://localhost:8080/etsy/callback", "ETSY_RATE_PER_SECOND": "20"}
        reset_settings(Settings.from_env(env))
        reset_redis()
        reset_publisher()

        echo(f"Etsy sandbox on {sandbox.url}; state, broker and bus in memory.\n")
        seller = sandbox.admin.create_shop(shop_name="DemoCeramics", country_iso="GB", currency_code="GBP")
        shop_id = int(seller["shop_id"])
        sandbox.admin.oauth(shop_id=shop_id, decision="approve")

        echo(f"1. Connect shop {shop_id} with OAuth 2.0 + PKCE")
        link = connect(shop_id)
        echo(f"   login URL: {link.url.split('?')[0]}?…")
        answer = requests.get(link.url, allow_redirects=False, timeout=10)  # the seller approves
        shop = complete(answer.headers["Location"])
        until = datetime.fromtimestamp(float(shop.expires_at), timezone.utc).strftime("%H:%M:%S UTC")
        echo(f"   connected: {shop.shop_name}; tokens stored encrypted; access token valid until {until}\n")

        tail = stack.enter_context(EventTail(on_event=_print_event(echo, started)))
        runtime = stack.enter_context(Runtime(worker_threads=4))

        def send(event_type: str, data: dict, source: str = "pim") -> CloudEvent:
            return publish(CloudEvent.new(event_type, data, source=source))

        def answer_to(cause: CloudEvent, *types: str) -> dict:
            deadline = time.monotonic() + STEP_TIMEOUT_SECONDS
            while time.monotonic() < deadline:
                for event_type in types:
                    found = tail.of_type(event_type, lambda e: e.get("causationid") == cause.id)
                    if found:
                        return found[-1]
                time.sleep(0.02)
            raise TimeoutError(f"no {' or '.join(types)} for {cause.type} within {STEP_TIMEOUT_SECONDS} s")

        echo("2. Upstream publishes a delivery template, a listing, the same listing again, a stock change")
        template = send("DeliveryTemplateReady", {
            "shop_id": shop_id, "template_id": "uk-standard", "title": "UK standard", "origin_country_iso": "GB",
            "origin_postal_code": "EC1A 1BB", "processing_min_days": 1, "processing_max_days": 3,
            "destinations": [
                {"country_iso": "GB", "primary_cost": "3.50", "secondary_cost": "1.00",
                 "min_delivery_days": 1, "max_delivery_days": 3},
                {"region": "eu", "primary_cost": "9.00", "secondary_cost": "3.00",
                 "min_delivery_days": 3, "max_delivery_days": 8},
            ]})
        answer_to(template, "DeliveryTemplateSynced", "EventRejected")
        listing = {
            "shop_id": shop_id, "product_id": "MUG-001", "sku": "MUG-001", "title": "Hand-thrown stoneware mug",
            "description": "A 350 ml mug, thrown and glazed by hand.", "price": "24.00", "rrp": "29.00",
            "currency": "GBP", "quantity": 12, "taxonomy_id": 1201, "who_made": "i_did",
            "when_made": "made_to_order", "delivery_template_id": "uk-standard",
            "images": [{"url": f"{images.url}/{c}.png", "alt_text": f"The mug in {c}"} for c in ("red", "green")],
            "tags": ["mug", "stoneware", "handmade"], "materials": ["stoneware"],
            "variations": [
                {"sku": "MUG-001-S-RED", "options": {"Size": "Small", "Glaze": "Red"}, "price": "22.00", "quantity": 3},
                {"sku": "MUG-001-S-GRN", "options": {"Size": "Small", "Glaze": "Green"}, "price": "22.00", "quantity": 4},
                {"sku": "MUG-001-L-RED", "options": {"Size": "Large", "Glaze": "Red"}, "price": "26.00", "quantity": 2},
                {"sku": "MUG-001-L-GRN", "options": {"Size": "Large", "Glaze": "Green"}, "price": "26.00", "quantity": 3},
            ],
            "state": "active",
        }
        published = answer_to(send("ListingReady", listing), "ListingPublished", "ListingRejected")
        listing_id = published["data"].get("listing_id")
        writes_before = sandbox.admin.counters().get("writes", 0)
        answer_to(send("ListingReady", listing), "ListingPublished", "ListingRejected")
        writes_after = sandbox.admin.counters().get("writes", 0)
        answer_to(send("StockChanged", {"shop_id": shop_id, "sku": "MUG-001-L-RED", "quantity": 7}),
                  "StockUpdated", "StockRejected")
        echo(f"   the identical listing again cost {writes_after - writes_before} Etsy write calls\n")

        echo("3. A buyer orders on Etsy; a poll tick downloads it")
        receipt = sandbox.admin.create_receipt(
            shop_id, items=[{"listing_id": listing_id, "quantity": 1}] if listing_id else None,
            buyer_email="buyer@example.com", buyer_name="Ada Buyer", gift_message="Happy birthday!",
            address={"name": "Ada Buyer", "first_line": "1 High Street", "second_line": None, "city": "London",
                     "state": None, "zip": "N1 9GU", "country_iso": "GB"}, country_iso="GB")
        receipt_id = int(receipt["receipt_id"])
        answer_to(send("OrdersPollTick", {"shop_id": shop_id}, source="scheduler"), "OrderDownloaded",
                  "EventRejected")

        echo("4. The warehouse ships it; tracking goes to Etsy; the next poll sees the change")
        answer_to(send("OrderShipped", {"shop_id": shop_id, "receipt_id": receipt_id, "carrier": "Royal Mail",
                                        "tracking_number": "RM123456785GB", "shipped_at": _now(),
                                        "note_to_buyer": "Thank you!"}, source="wms"),
                  "ShipmentConfirmed", "ShipmentRejected")
        send("OrdersPollTick", {"shop_id": shop_id}, source="scheduler")
        _wait(lambda: tail.of_type("OrderUpdated"), "OrderUpdated")

        echo("5. A broken event is answered, not dropped")
        bad = send("ListingReady", {"shop_id": shop_id, "product_id": "MUG-002", "price": 9.99})
        answer_to(bad, "EventRejected")
        # Its typed rejection follows the EventRejected: wait for it too before counting.
        _wait(lambda: tail.of_type("ListingRejected"), "ListingRejected")

        counters = sandbox.admin.counters()
        counts: dict[str, int] = {}
        for event in tail.events:
            counts[str(event.get("type"))] = counts.get(str(event.get("type")), 0) + 1
        summary = {"events": counts, "etsy_calls": counters.get("calls_total"),
                   "etsy_429s": counters.get("rate_limited_429"), "seconds": round(time.monotonic() - started, 2),
                   "requeued_by_bridge": runtime.bridge.counts["requeued"] if runtime.bridge else 0}
        echo("\nSummary: " + ", ".join(f"{n} × {t}" for t, n in sorted(counts.items())))
        echo(f"Etsy calls: {summary['etsy_calls']} (429s: {summary['etsy_429s']}), "
             f"in {summary['seconds']} s.")
    reset_settings()
    reset_redis()
    reset_publisher()
    return summary


def _now() -> str:
    from .messages import utcnow

    return utcnow()


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not arrive within {STEP_TIMEOUT_SECONDS} s")
        time.sleep(0.02)
