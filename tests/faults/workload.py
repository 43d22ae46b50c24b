"""The work a fault scenario pushes through etsyflow, and how it is checked.

Listings (``ListingReady`` → ``ListingPublished``), orders (receipts placed on
the sandbox, ``OrdersPollTick`` → one ``OrderDownloaded`` each) and shipments
(``OrderShipped`` → ``ShipmentConfirmed``) are published on the bus together.
Ticks are repeated every :data:`TICK_EVERY` seconds while orders are missing,
as the scheduler would.

- completed: listings published, orders downloaded, shipments confirmed;
- lost: work items without their follow-up when the time is up;
- duplicates: a second listing for one product or a second shipment for one
  parcel on the sandbox, an order downloaded under two event ids, or a
  follow-up published twice under different ids.
"""

from __future__ import annotations

import copy
import time
from collections import Counter, defaultdict

from etsyflow.messages import CloudEvent, publish

TICK_EVERY = 2.0

TEMPLATE = {
    "template_id": "std-gb", "title": "Standard shipping", "origin_country_iso": "US",
    "origin_postal_code": "10001", "processing_min_days": 1, "processing_max_days": 3,
    "destinations": [{"country_iso": "US", "primary_cost": "4.50", "secondary_cost": "1.00",
                      "min_delivery_days": 2, "max_delivery_days": 5}],
}


def product(shop_id: int, n: int, run: str) -> dict:
    return {
        "shop_id": shop_id, "product_id": f"{run}-P{n}", "sku": f"{run}-SKU{n}"[:32],
        "title": f"Fault test dress {run} {n}", "description": "A light linen dress.", "price": "49.00",
        "currency": "USD", "quantity": 5, "taxonomy_id": 374, "who_made": "i_did", "when_made": "2020_2026",
        "delivery_template_id": TEMPLATE["template_id"], "tags": ["linen"], "materials": ["linen"],
        "state": "draft",
    }


class Workload:
    def __init__(self, sandbox, shop_id: int, tail, *, listings: int, orders: int, shipments: int, run: str):
        assert shipments <= orders
        self.sandbox, self.shop_id, self.tail, self.run = sandbox, shop_id, tail, run
        self.n_listings, self.n_orders, self.n_shipments = listings, orders, shipments
        self.listing_events: dict[str, str] = {}  # event id -> product title
        self.shipment_events: dict[str, int] = {}  # event id -> receipt id
        self.receipts: list[int] = []
        self.ticks = 0
        self.started = self.finished = None
        self._last_tick = 0.0

    # -- before the clock starts --------------------------------------------------------
    def prepare(self, timeout: float = 60.0) -> None:
        """The delivery template exists on Etsy; the orders are placed on the sandbox."""
        cause = publish(CloudEvent.new("DeliveryTemplateReady", {**copy.deepcopy(TEMPLATE), "shop_id": self.shop_id},
                                       source="pim"))
        self.tail.wait_for("DeliveryTemplateSynced", lambda e: e.get("causationid") == cause.id, timeout=timeout)
        made = self.sandbox.admin.bulk_receipts(self.shop_id, self.n_orders, country_iso="GB")
        self.receipts = [int(r) for r in made["receipt_ids"]]

    # -- the run ---------------------------------------------------------------------------
    def send_all(self) -> None:
        self.started = time.monotonic()
        shipments = self.receipts[: self.n_shipments]
        for n in range(max(self.n_listings, len(shipments))):
            if n < self.n_listings:
                data = product(self.shop_id, n, self.run)
                event = publish(CloudEvent.new("ListingReady", data, source="pim"))
                self.listing_events[event.id] = data["title"]
            if n < len(shipments):
                receipt_id = shipments[n]
                event = publish(CloudEvent.new("OrderShipped", {
                    "shop_id": self.shop_id, "receipt_id": receipt_id, "carrier": "Royal Mail",
                    "tracking_number": f"JC{receipt_id % 10**9:09d}GB", "shipped_at": "2026-11-29T16:05:00Z"},
                    source="wms"))
                self.shipment_events[event.id] = receipt_id
        self.tick()

    def tick(self) -> None:
        publish(CloudEvent.new("OrdersPollTick", {"shop_id": self.shop_id}, source="scheduler"))
        self.ticks += 1
        self._last_tick = time.monotonic()

    @property
    def work_items(self) -> int:
        return self.n_listings + self.n_orders + self.n_shipments

    def _of(self, kind: str, causes) -> dict:
        ids = defaultdict(set)
        for e in self.tail.of_type(kind, lambda e: e.get("causationid") in causes):
            ids[e["causationid"]].add(e["id"])
        return ids

    def downloaded(self) -> dict[int, set]:
        ids = defaultdict(set)
        for e in self.tail.of_type("OrderDownloaded", lambda e: e["data"].get("shop_id") == self.shop_id):
            ids[int(e["data"]["order"]["receipt_id"])].add(e["id"])
        return ids

    def completed(self) -> dict:
        published = self._of("ListingPublished", self.listing_events)
        confirmed = self._of("ShipmentConfirmed", self.shipment_events)
        downloaded = self.downloaded()
        return {"listings": published, "shipments": confirmed,
                "orders": {r: downloaded[r] for r in self.receipts if r in downloaded}}

    def done_count(self, completed: dict | None = None) -> int:
        completed = completed or self.completed()
        return sum(len(v) for v in completed.values())

    def rejections(self) -> list[dict]:
        causes = set(self.listing_events) | set(self.shipment_events)
        return [e for kind in ("ListingRejected", "ShipmentRejected", "EventRejected")
                for e in self.tail.of_type(kind, lambda e: e.get("causationid") in causes)]

    def drive(self, timeout: float, on_progress=None) -> bool:
        """Until everything completed (True) or ``timeout`` seconds (False); ticks as a scheduler would.

        ``on_progress(done, total)`` is called about every 50 ms (to crash things mid-run).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            completed = self.completed()
            done = self.done_count(completed)
            if done >= self.work_items:
                self.finished = time.monotonic()
                return True
            if on_progress is not None:
                on_progress(done, self.work_items)
            if len(completed["orders"]) < self.n_orders and time.monotonic() - self._last_tick > TICK_EVERY:
                self.tick()
            time.sleep(0.05)
        self.finished = time.monotonic()
        return False

    # -- the verdict -----------------------------------------------------------------------
    def figures(self, scenario: str, *, retries: float, note: str = "",
                injected: str = "Etsy faults injected") -> dict:
        """The scenario's figures; ``injected`` names what the sandbox's fault counter counted."""
        completed = self.completed()
        state = self.sandbox.app.state
        with state.lock:
            titles = Counter(l["title"] for l in state.listings.values() if l["shop_id"] == self.shop_id)
            shipments = {r: len(state.receipts[r]["shipments"]) for r in self.shipment_events.values()}
        listing_dupes = sum(titles[t] - 1 for t in self.listing_events.values() if titles[t] > 1)
        shipment_dupes = sum(n - 1 for n in shipments.values() if n > 1)
        order_dupes = sum(len(ids) - 1 for ids in completed["orders"].values())
        follow_up_dupes = sum(len(ids) - 1 for kind in ("listings", "shipments") for ids in completed[kind].values())
        counters = self.sandbox.admin.counters()
        faults = int(counters["faults_injected"])
        done = self.done_count(completed)
        return {
            "scenario": scenario,
            "sent": len(self.listing_events) + len(self.shipment_events) + self.ticks + 1,
            "detail": f"{len(self.listing_events)} listings, {len(self.shipment_events)} shipments, "
                      f"{self.ticks} poll ticks for {self.n_orders} orders, 1 delivery template",
            "work_items": self.work_items,
            "completed": done,
            "lost": self.work_items - done,
            "duplicates": listing_dupes + shipment_dupes + order_dupes + follow_up_dupes,
            "duplicates_detail": {"listings_on_etsy": listing_dupes, "shipments_on_etsy": shipment_dupes,
                                  "orders_downloaded_twice": order_dupes, "follow_ups_twice": follow_up_dupes},
            "missing": {"listings": [t for i, t in self.listing_events.items() if i not in completed["listings"]],
                        "shipments": [r for i, r in self.shipment_events.items() if i not in completed["shipments"]],
                        "orders": [r for r in self.receipts if r not in completed["orders"]]},
            "listings_on_etsy": sum(titles[t] for t in set(self.listing_events.values())),
            "duplicated": {"listings": sorted(t for t in set(self.listing_events.values()) if titles[t] > 1),
                           "shipments": sorted(r for r, n in shipments.items() if n > 1)},
            "shipments_on_etsy": sum(shipments.values()),
            "rejections": len(self.rejections()),
            "retries": int(retries),
            "faults": faults,
            "injected": injected,
            "etsy_calls": int(counters["calls_total"]),
            "drain_seconds": (self.finished or time.monotonic()) - self.started,
            "note": note,
        }
