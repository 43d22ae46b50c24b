"""One poll of one shop: receipts → ``OrderDownloaded`` / ``OrderUpdated``.

Incremental (the default)
    ``getShopReceipts`` with ``min_last_modified = cursor − overlap``, sorted by
    modification time, oldest first, 100 per call (transactions, shipments and
    refunds come embedded: no per-order calls). Paging is keyset-like: the next
    page asks from the newest modification time of the page just read and skips,
    by ``offset``, only the receipts of that very second already read. A receipt
    that changes while we page moves to the end of the list instead of shifting
    an unread one out of reach (plain offset paging would skip one). A whole page
    sharing one second falls back to plain offsets. The ``count`` of the answer
    ends the poll without an extra empty call.

    Then the receipts *canceled* since the same point, asked for explicitly
    (``was_canceled=true``; one call unless more than 100 were canceled): Etsy
    leaves canceled receipts out of the unfiltered list (#153, #629), so without
    this pass a cancellation would reach the bus only at the next reconcile. It
    does not move the cursor.

Reconcile
    Receipts *created* in the last ``ORDERS_RECONCILE_DAYS``, then the canceled
    ones of that window asked for explicitly: Etsy does not bump the
    modification time on refunds (etsy/open-api#513, etsy/open-api#339) or ship-date edits (etsy/open-api#232), and
    leaves canceled receipts out of unfiltered lists (etsy/open-api#153, etsy/open-api#629). The cursor is
    not touched.

Per receipt: map to the contract order, fingerprint it, compare with what was
last published: new → ``OrderDownloaded``; different → ``OrderUpdated`` with
``changes[]``; same (an overlap re-read) → nothing. The fingerprint is stored
only after the event is published, and the cursor moves only after every
event of the page is published, so a worker that dies anywhere re-reads and
re-publishes at most what it had not recorded.

Event ids are derived from (type, shop, receipt, version, fingerprint), not
from the tick: a receipt published by a tick that died before recording it
gets the *same* id when the next tick (or the redelivered one) publishes it
again, so subscribers drop the duplicate by id. (``ctx.emit``'s ids depend on
the tick's id, which a second tick does not share; that is why this module
builds its follow-ups itself, with ``causationid`` = the tick.)
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from ..config.logging import get_logger
from ..messages import CloudEvent, EventType
from ..schemas import orders as schema
from .changes import classify
from .config import OrdersConfig
from .store import OrderState

log = get_logger("etsyflow.orders")

INCREMENTAL = "incremental"
RECONCILE = "reconcile"
MODES = (INCREMENTAL, RECONCILE)
_ORDER_NS = uuid.UUID("4c2d0e5a-1f7b-4e8a-a3c1-6b9e2f0d7a54")


class LockLost(RuntimeError):
    """The shop's poll lock lapsed mid-poll (a stall longer than its TTL): stop, another poll runs."""


@dataclass
class PollResult:
    shop_id: int
    mode: str
    calls: int = 0
    downloaded: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    pages: int = 0
    cursor: int | None = None
    more: bool = False
    seconds: float = 0.0
    events: list[CloudEvent] = field(default_factory=list)

    def as_log(self) -> dict:
        return {"mode": self.mode, "calls": self.calls, "downloaded": self.downloaded, "updated": self.updated,
                "unchanged": self.unchanged, "skipped": self.skipped, "pages": self.pages,
                "cursor": self.cursor, "more": self.more, "seconds": round(self.seconds, 3)}


def order_event_id(event_type: str, shop_id: int, receipt_id: int, version: int, fp: str) -> str:
    """The id of the event that publishes state ``version``/``fp`` of a receipt (same every time)."""
    return str(uuid.uuid5(_ORDER_NS, f"{event_type}\x1f{shop_id}\x1f{receipt_id}\x1f{version}\x1f{fp}"))


class Poller:
    """Polls one shop. ``client`` is an :class:`~etsyflow.etsy.client.EtsyClient` for it;
    ``publish`` puts one event on the bus and raises when it cannot; ``cause`` is the tick."""

    def __init__(self, shop_id: int, client, state: OrderState, config: OrdersConfig, *,
                 publish: Callable[[CloudEvent], object], cause: CloudEvent,
                 clock: Callable[[], float] = time.time):
        self.shop_id = int(shop_id)
        self.client = client
        self.state = state
        self.config = config
        self.publish = publish
        self.cause = cause
        self.clock = clock

    # -- the two modes --------------------------------------------------------------------
    def run(self, mode: str = INCREMENTAL) -> PollResult:
        if mode not in MODES:
            raise ValueError(f"unknown poll mode {mode!r}; known: {', '.join(MODES)}")
        started = time.monotonic()
        result = PollResult(self.shop_id, mode)
        if mode == INCREMENTAL:
            self._incremental(result)
        else:
            self._reconcile(result)
        result.seconds = time.monotonic() - started
        result.cursor = self.state.cursor()
        return result

    def _incremental(self, result: PollResult) -> None:
        cursor = self.state.cursor()
        if cursor is None:
            since = int(self.clock() - self.config.initial_lookback_days * 86400)
        else:
            since = cursor - self.config.overlap_seconds
        self._modified(result, since)
        self._canceled(result, since)

    def _canceled(self, result: PollResult, since: int) -> None:
        """Receipts canceled (modified) since ``since``: Etsy's unfiltered list leaves them out."""
        offset = 0
        for _ in range(self.config.max_pages_per_tick):
            page = self._page(result, schema.modified_since_query(since, offset=offset, canceled=True))
            receipts = schema.page_results(page)
            self._handle_page(result, receipts)
            if self._last_page(page, receipts, offset):
                return
            offset += len(receipts)
        result.more = True

    def _modified(self, result: PollResult, since: int) -> None:
        offset = 0
        for _ in range(self.config.max_pages_per_tick):
            page = self._page(result, schema.modified_since_query(since, offset=offset))
            receipts = schema.page_results(page)
            self._handle_page(result, receipts)
            times = [t for t in (schema.receipt_modified_at(r) for r in receipts) if t is not None]
            if times:
                # Every event of this page is out: the cursor may move past it.
                self.state.advance_cursor(max(times))
            if self._last_page(page, receipts, offset):
                return
            top = max(times) if times else since
            if top > since:
                since, offset = top, sum(1 for t in times if t == top)
            else:
                offset += len(receipts)
        result.more = True
        log.info("more receipts than one tick reads; the next tick goes on from the cursor",
                 shop_id=self.shop_id, pages=result.pages)

    def _reconcile(self, result: PollResult) -> None:
        since = int(self.clock() - self.config.reconcile_days * 86400)
        for canceled in (None, True):
            offset = 0
            for _ in range(self.config.max_pages_per_tick):
                page = self._page(result, schema.created_since_query(since, offset=offset, canceled=canceled))
                receipts = schema.page_results(page)
                self._handle_page(result, receipts)
                if self._last_page(page, receipts, offset):
                    break
                offset += len(receipts)
            else:
                result.more = True

    # -- pages and receipts ------------------------------------------------------------------
    def _page(self, result: PollResult, query: dict) -> dict:
        if not self.state.extend(self.config.lock_ttl_seconds):
            raise LockLost(f"shop {self.shop_id}: poll lock lapsed; another poll took over")
        page = self.client.get_shop_receipts(**query)
        result.calls += 1
        result.pages += 1
        return page

    @staticmethod
    def _last_page(page, receipts: list, offset: int) -> bool:
        if len(receipts) < schema.PAGE_SIZE:
            return True
        count = page.get("count") if isinstance(page, dict) else None
        return isinstance(count, int) and not isinstance(count, bool) and offset + len(receipts) >= count

    def _handle_page(self, result: PollResult, receipts: list) -> None:
        ids = [r for r in (schema.receipt_id_of(x) for x in receipts) if r]
        known = self.state.seen_many(ids)
        handled: set[int] = set()
        for receipt in receipts:
            receipt_id = schema.receipt_id_of(receipt)
            if not receipt_id or receipt_id in handled:
                if not receipt_id:
                    result.skipped += 1
                    log.error("receipt without a usable receipt_id skipped", shop_id=self.shop_id)
                continue
            handled.add(receipt_id)
            try:
                order = schema.receipt_to_order(receipt)
            except schema.ReceiptError as error:
                # Not recorded: the next reconcile tries it again.
                result.skipped += 1
                log.error("receipt could not be read; skipped", shop_id=self.shop_id, receipt_id=receipt_id,
                          reason=str(error))
                continue
            self._handle(result, receipt_id, order, known.get(receipt_id))

    def _handle(self, result: PollResult, receipt_id: int, order: dict, before) -> None:
        fp = schema.fingerprint(order)
        if before is not None and before.fingerprint == fp:
            result.unchanged += 1
            return
        snap = schema.snapshot(order)
        version = before.version + 1 if before is not None else 1
        if before is None:
            event_type = EventType.ORDER_DOWNLOADED
            data = {"shop_id": self.shop_id, "order": order}
        else:
            event_type = EventType.ORDER_UPDATED
            data = {"shop_id": self.shop_id, "order": order, "changes": classify(before.snapshot, snap) or ["other"]}
        event = CloudEvent(type=str(event_type), data=data,
                           id=order_event_id(event_type, self.shop_id, receipt_id, version, fp),
                           causationid=self.cause.id)
        self.publish(event)
        self.state.remember(receipt_id, fp, version, snap)  # only once the event is out
        result.events.append(event)
        if before is None:
            result.downloaded += 1
        else:
            result.updated += 1
