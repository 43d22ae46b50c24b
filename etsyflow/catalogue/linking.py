"""Existing Etsy listings ↔ upstream products, linked by SKU before anything is created.

A seller who turns etsyflow on usually sells on Etsy already. :func:`run`
reads every listing of the shop, in every state, with its inventory (where
the SKUs are) and its images, and then:

- links each upstream product etsyflow knows (every ``ListingReady`` it has
  seen, see :func:`remember_product`, plus the one being processed) to the
  one Etsy listing that holds its SKUs (the product's own or its
  variations'): the link record is written as if etsyflow had made the
  listing, so the next ``ListingReady`` updates it in place;
- does not link a product whose SKU is on two Etsy listings, or whose SKUs
  are split across listings, or whose listing another product holds: the
  product is *ambiguous* and its ``ListingRejected`` names the candidates;
- announces every listing no product has, once per listing, as
  ``ListingDiscovered``, and indexes its SKUs (``StockChanged`` then finds it
  without a search, and a product published later with those SKUs is linked
  to it instead of creating a second listing: :func:`link_from_index`).

Fewest calls: ``getListingsByShop`` is the only read that embeds inventories
(``includes=Inventory``; ``getListing`` and ``getListingsByListingIds`` do
not), takes one ``state`` per call and at most 100 listings per page. So a
shop with ``n_s`` listings in state ``s`` costs ``Σ max(1, ⌈n_s / 100⌉)``
calls over the five states (:func:`minimum_calls`): 104 for 10,000 active
listings, about 1 % of the default daily quota. Images ride along in the same
calls (``includes=Inventory,Images``). A listing that changes state while
the pages are read can be seen twice (kept once) or missed (found by the next
sync).

Progress and the last outcome are kept in ``etsyflow:listing-sync:<shop>``
(shown by ``etsyflow status``).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Callable

from ..messages import Refused
from ..schemas import linking as shape
from . import keys, locks, records

#: Etsy's listing states, every one read (Etsy's ``state`` filter takes one at a time).
STATES = ("active", "draft", "inactive", "sold_out", "expired")
PAGE = 100
INCLUDES = ["Inventory", "Images"]
#: A sync of 10,000 listings is about 104 calls: 15 minutes covers a slow quota.
SYNC_LEASE_SECONDS = 15 * 60

Emit = Callable[[str, dict, str], None]
Progress = Callable[[int, int], None]


@dataclass
class Link:
    product_id: str
    listing: dict
    skus: list[str]

    @property
    def listing_id(self) -> int:
        return shape.listing_id(self.listing)


@dataclass
class Ambiguity:
    product_id: str
    candidates: list[int]
    reason: str


@dataclass
class Report:
    """What a sync found (and, unless a dry run, did)."""

    shop_id: int
    listings: int = 0
    calls: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    linked: list[Link] = field(default_factory=list)
    already: list[tuple[str, int]] = field(default_factory=list)
    to_create: list[str] = field(default_factory=list)
    ambiguous: list[Ambiguity] = field(default_factory=list)
    discovered: list[dict] = field(default_factory=list)
    announced_discovered: int = 0

    def ambiguity(self, product_id: str) -> Ambiguity | None:
        return next((a for a in self.ambiguous if a.product_id == product_id), None)

    def counts(self) -> dict[str, int]:
        return {"listings": self.listings, "calls": self.calls, "linked": len(self.linked),
                "already_linked": len(self.already), "to_create": len(self.to_create),
                "ambiguous": len(self.ambiguous), "discovered": len(self.discovered)}


def minimum_calls(by_state: dict[str, int]) -> int:
    """The fewest ``getListingsByShop`` calls that read these many listings per state."""
    return sum(max(1, math.ceil(by_state.get(s, 0) / PAGE)) for s in STATES)


# -- the upstream side -----------------------------------------------------------------

def remember_product(redis, shop_id: int, product_id: str, skus: list[str]) -> None:
    """Note a product seen in a ``ListingReady`` and its SKUs (the upstream side of linking)."""
    redis.hset(keys.products(shop_id), product_id, json.dumps(skus))


def known_products(redis, shop_id: int) -> dict[str, list[str]]:
    raw = redis.hgetall(keys.products(shop_id)) or {}
    return {records._s(k): records.load_json(v, []) for k, v in raw.items()}


def _linked(redis, shop_id: int, product_ids: list[str]) -> dict[str, int]:
    """Products whose link record is linked (or being created): product → listing id (0 while creating)."""
    pipe = redis.pipeline()
    for pid in product_ids:
        pipe.hmget(keys.listing(shop_id, pid), "status", "listing_id")
    out = {}
    for pid, (status, listing_id) in zip(product_ids, pipe.execute()):
        status = records._s(status)
        if status == records.LINKED and listing_id:
            out[pid] = int(listing_id)
        elif status == records.CREATING:
            out[pid] = 0
    return out


def _owners(redis, shop_id: int, listing_ids: list[int]) -> dict[int, str]:
    if not listing_ids:
        return {}
    values = redis.mget([keys.listing_owner(shop_id, lid) for lid in listing_ids])
    return {lid: records._s(v) for lid, v in zip(listing_ids, values) if v}


# -- reading the shop ---------------------------------------------------------------------

def read_shop(client, *, progress: Progress | None = None) -> tuple[list[dict], int, dict[str, int]]:
    """Every listing of the shop with inventory and images: (listings, calls made, count per state).

    The first page of every state comes first, so the total is known after
    five calls and ``progress(read, total)`` can show a true fraction.
    """
    firsts, calls = {}, 0
    for state in STATES:
        firsts[state] = shape.page(client.get_listings_by_shop(state=state, limit=PAGE, offset=0,
                                                               includes=INCLUDES))
        calls += 1
    counts = {s: len(results) if count is None else count for s, (results, count) in firsts.items()}
    total = sum(counts.values())
    listings: list[dict] = []
    seen: set[int] = set()

    def keep(results):
        for listing in results:
            lid = shape.listing_id(listing)
            if lid not in seen:
                seen.add(lid)
                listings.append(listing)
        if progress:
            progress(len(listings), max(total, len(listings)))

    for state in STATES:
        results = firsts[state][0]
        keep(results)
        offset = len(results)
        while len(results) == PAGE and offset < counts[state]:
            results, _count = shape.page(client.get_listings_by_shop(state=state, limit=PAGE, offset=offset,
                                                                      includes=INCLUDES))
            calls += 1
            keep(results)
            offset += len(results)
    return listings, calls, counts


# -- matching ----------------------------------------------------------------------------

def _ids(values) -> str:
    return ", ".join(str(v) for v in sorted(values))


def plan(shop_id: int, listings: list[dict], products: dict[str, list[str]], *,
         owners: dict[int, str], linked: dict[str, int]) -> Report:
    """Decide, without writing anything, what a sync links, leaves ambiguous, and discovers."""
    report = Report(shop_id, listings=len(listings))
    by_id = {shape.listing_id(l): l for l in listings}
    sku_at: dict[str, set[int]] = {}
    for lid, listing in by_id.items():
        for sku in shape.skus(listing):
            sku_at.setdefault(sku, set()).add(lid)
    claims: dict[int, list[str]] = {}
    matched: dict[str, list[str]] = {}
    involved: set[int] = set()
    for pid in sorted(products):
        if pid in linked:
            if linked[pid]:
                report.already.append((pid, linked[pid]))
                involved.add(linked[pid])
            continue
        hits = {s: sku_at[s] for s in products[pid] if s in sku_at}
        if not hits:
            report.to_create.append(pid)
            continue
        candidates = sorted(set().union(*hits.values()))
        involved.update(candidates)
        doubled = sorted(s for s, at in hits.items() if len(at) > 1)
        if doubled:
            report.ambiguous.append(Ambiguity(pid, candidates, (
                f"not linked: SKU {', '.join(doubled)} is on more than one Etsy listing ({_ids(candidates)}); "
                "keep each SKU on one listing on Etsy, then sync again")))
            continue
        if len(candidates) > 1:
            where = "; ".join(f"{lid}: {', '.join(sorted(s for s, at in hits.items() if lid in at))}"
                              for lid in candidates)
            report.ambiguous.append(Ambiguity(pid, candidates, (
                f"not linked: its SKUs are split across Etsy listings ({where}); "
                "put them on one listing on Etsy (or split the product upstream), then sync again")))
            continue
        lid = candidates[0]
        owner = owners.get(lid)
        if owner and owner != pid:
            report.ambiguous.append(Ambiguity(pid, candidates, (
                f"not linked: Etsy listing {lid} has its SKUs ({', '.join(sorted(hits))}) but is already "
                f"linked to product {owner}")))
            continue
        claims.setdefault(lid, []).append(pid)
        matched[pid] = sorted(hits)
    for lid, pids in sorted(claims.items()):
        if len(pids) == 1:
            report.linked.append(Link(pids[0], by_id[lid], matched[pids[0]]))
            continue
        for pid in pids:
            report.ambiguous.append(Ambiguity(pid, [lid], (
                f"not linked: Etsy listing {lid} holds SKUs of several products ({', '.join(pids)}); "
                "give each product its own SKUs, then sync again")))
    report.discovered = [l for lid, l in by_id.items() if lid not in owners and lid not in involved]
    return report


# -- writing --------------------------------------------------------------------------------

def write_link(redis, shop_id: int, product_id: str, listing: dict, *,
               lock_wait_seconds: float = locks.DEFAULT_WAIT_SECONDS) -> bool:
    """Make ``listing`` (Etsy's, with inventory and images) the product's listing; False if taken."""
    lid = shape.listing_id(listing)
    with locks.held(redis, keys.listing_lock(shop_id, product_id), wait_seconds=lock_wait_seconds):
        link = records.load_listing(redis, shop_id, product_id)
        if link.linked or link.creating:
            return link.listing_id == lid
        if not records.claim_listing(redis, shop_id, lid, product_id):
            return False
        link.status, link.listing_id, link.state = records.LINKED, lid, shape.state(listing)
        link.desired_state, link.template_id = None, None
        link.readiness_state_id = shape.readiness_state_id(listing)
        # What Etsy holds now: the next ListingReady compares with it (and names the seller's edits).
        link.fields = shape.kept_fields(listing)
        link.fp_fields = records.fingerprint(link.fields)
        matrix = shape.inventory(listing)
        link.inventory = matrix if matrix.get("products") else None
        link.images = [{"key": f"etsy:{i}", "id": i} for i in shape.image_ids(listing)]
        link.image_intent, link.properties, link.held, link.stock_inactive = None, {}, None, False
        link.create_fp, link.intent_at = None, None
        records.save_listing(redis, link)
        records.index_skus(redis, shop_id, lid, product_id, shape.skus(listing), [])
        return True


def apply(report: Report, redis, *, emit: Emit, lock_wait_seconds: float = locks.DEFAULT_WAIT_SECONDS) -> None:
    """Write the links of ``report`` and announce them, the ambiguities and the discoveries.

    Each announcement is made before the write it reports (a crash in
    between repeats it with the same id on the next run; subscribers drop
    repeated ids), so nothing is announced that is then lost.
    """
    shop_id = report.shop_id
    made = []
    for link in report.linked:
        if records.listing_owner(redis, shop_id, link.listing_id) in (None, link.product_id):
            emit("ListingLinked", shape.linked_data(shop_id, link.product_id, link.listing_id, link.skus),
                 f"linked:{link.product_id}:{link.listing_id}")
            if write_link(redis, shop_id, link.product_id, link.listing, lock_wait_seconds=lock_wait_seconds):
                made.append(link)
                continue
        report.ambiguous.append(Ambiguity(link.product_id, [link.listing_id], (
            f"not linked: Etsy listing {link.listing_id} was taken by another product during the sync")))
    report.linked = made
    for ambiguity in report.ambiguous:
        emit("ListingRejected", shape.ambiguous_data(shop_id, ambiguity.product_id, ambiguity.reason,
                                                     ambiguity.candidates), f"ambiguous:{ambiguity.product_id}")
    # SKUs on two listings: remembered, so a product published later is refused, not linked at random.
    doubled: dict[str, list[int]] = {}
    for listing in report.discovered + [l.listing for l in made]:
        for sku in shape.skus(listing):
            doubled.setdefault(sku, []).append(shape.listing_id(listing))
    pipe = redis.pipeline()
    pipe.delete(keys.sku_ambiguous(shop_id))
    many = {sku: json.dumps(sorted(ids)) for sku, ids in doubled.items() if len(ids) > 1}
    if many:
        pipe.hset(keys.sku_ambiguous(shop_id), mapping=many)
    pipe.execute()
    announced = redis.smembers(keys.discovered(shop_id)) or set()
    announced = {int(records._s(v)) for v in announced}
    for listing in report.discovered:
        lid = shape.listing_id(listing)
        single = [s for s in shape.skus(listing) if s not in many]
        records.index_skus(redis, shop_id, lid, None, single, [])
        if lid in announced:
            continue
        emit("ListingDiscovered", shape.discovered_data(shop_id, listing), f"discovered:{lid}")
        redis.sadd(keys.discovered(shop_id), lid)
        report.announced_discovered += 1


# -- progress ------------------------------------------------------------------------------------

def status(redis, shop_id: int) -> dict | None:
    """The shop's listings sync (running or last): JSON-ready, or None when never run."""
    raw = redis.hgetall(keys.listing_sync(shop_id)) or {}
    if not raw:
        return None
    out = {}
    for k, v in raw.items():
        k, v = records._s(k), records._s(v)
        try:
            out[k] = int(v) if v.isdigit() else (float(v) if k.endswith("_at") and v else v)
        except ValueError:
            out[k] = v
    return out


def synced(redis, shop_id: int) -> bool:
    """Has a listings sync of this shop ever completed?"""
    return bool(redis.hexists(keys.listing_sync(shop_id), "last_done_at"))


def _status(redis, shop_id: int, **values) -> None:
    redis.hset(keys.listing_sync(shop_id), mapping={k: "" if v is None else v for k, v in values.items()})


# -- the whole sync --------------------------------------------------------------------------

def run(shop_id: int, *, client, redis, emit: Emit | None = None, extra: dict | None = None,
        dry_run: bool = False, progress: Progress | None = None, first_only: bool = False,
        lock_wait_seconds: float = locks.DEFAULT_WAIT_SECONDS) -> Report | None:
    """Read the shop, match, and (unless ``dry_run``) link and announce through ``emit``.

    ``extra`` is a ``ListingReady``'s data whose product takes part although
    it was not remembered yet (the automatic sync before a first create).
    ``first_only``: return None, doing nothing, when a sync has completed by
    the time this one holds the shop's lock (concurrent first publishes wait
    for one sync instead of each running their own).
    """
    if dry_run:
        return _match(shop_id, client=client, redis=redis, extra=extra, progress=progress)
    with locks.held(redis, keys.listing_sync_lock(shop_id), lease_seconds=SYNC_LEASE_SECONDS,
                    wait_seconds=lock_wait_seconds):
        if first_only and synced(redis, shop_id):
            return None
        started = time.time()
        _status(redis, shop_id, status="running", started_at=started, read=0, total=0, calls=0, error="")

        def tracked(read: int, total: int) -> None:
            _status(redis, shop_id, read=read, total=total)
            if progress:
                progress(read, total)

        try:
            report = _match(shop_id, client=client, redis=redis, extra=extra, progress=tracked)
            apply(report, redis, emit=emit or (lambda *a: None), lock_wait_seconds=lock_wait_seconds)
        except Exception as error:
            _status(redis, shop_id, status="failed", finished_at=time.time(), error=str(error)[:300])
            raise
        _status(redis, shop_id, status="done", finished_at=time.time(), last_done_at=time.time(),
                **report.counts())
        return report


def _match(shop_id, *, client, redis, extra, progress) -> Report:
    listings, calls, counts = read_shop(client, progress=progress)
    products = known_products(redis, shop_id)
    if extra is not None:
        products[extra["product_id"]] = shape.product_skus(extra)
    owners = _owners(redis, shop_id, [shape.listing_id(l) for l in listings])
    report = plan(shop_id, listings, products, owners=owners, linked=_linked(redis, shop_id, sorted(products)))
    report.calls, report.by_state = calls, counts
    return report


# -- before a listing is created ---------------------------------------------------------------

def before_create(data: dict, *, client, redis, emit: Emit,
                  lock_wait_seconds: float = locks.DEFAULT_WAIT_SECONDS) -> None:
    """Called for every ``ListingReady``: remember the product; if it has no listing yet, link it
    to the Etsy listing that already sells its SKUs rather than let a second one be created.

    A shop never synced is synced whole first. Raises :class:`Refused` when
    the product is ambiguous (its ``ListingRejected`` names the candidates).
    """
    shop_id, product_id = data["shop_id"], data["product_id"]
    remember_product(redis, shop_id, product_id, shape.product_skus(data))
    link = records.load_listing(redis, shop_id, product_id)
    if link.linked or link.creating:
        return
    if not synced(redis, shop_id):
        def others(etype: str, edata: dict, key: str) -> None:
            if not (etype == "ListingRejected" and edata.get("product_id") == product_id):
                emit(etype, edata, key)  # this product's own rejection is the caller's answer

        report = run(shop_id, client=client, redis=redis, emit=others, extra=data, first_only=True,
                     lock_wait_seconds=lock_wait_seconds)
    else:
        report = None
    if report is not None:
        ambiguity = report.ambiguity(product_id)
    else:
        ambiguity = link_from_index(data, client=client, redis=redis, emit=emit,
                                    lock_wait_seconds=lock_wait_seconds)
    if ambiguity is not None:
        raise Ambiguous(ambiguity)


class Ambiguous(Refused):
    """The product matches more than one Etsy listing (or one another product holds)."""

    def __init__(self, ambiguity: Ambiguity):
        super().__init__(ambiguity.reason + f" (candidates: {_ids(ambiguity.candidates)})")
        self.candidates = list(ambiguity.candidates)


def link_from_index(data: dict, *, client, redis, emit: Emit,
                    lock_wait_seconds: float = locks.DEFAULT_WAIT_SECONDS) -> Ambiguity | None:
    """A synced shop: link the product to a discovered listing holding its SKUs (two reads), if one does."""
    shop_id, product_id = data["shop_id"], data["product_id"]
    skus = shape.product_skus(data)
    if not skus:
        return None
    doubled = {}
    for sku, raw in zip(skus, redis.hmget(keys.sku_ambiguous(shop_id), skus)):
        if raw:
            doubled[sku] = records.load_json(raw, [])
    if doubled:
        candidates = sorted({lid for ids in doubled.values() for lid in ids})
        return Ambiguity(product_id, candidates, (
            f"not linked: SKU {', '.join(sorted(doubled))} is on more than one Etsy listing "
            f"({_ids(candidates)}); keep each SKU on one listing on Etsy, then sync again"))
    hits: dict[int, list[str]] = {}
    for sku in skus:
        entry = records.find_sku(redis, shop_id, sku)
        if entry and entry.get("product_id") is None:  # a discovered listing no product has
            hits.setdefault(int(entry["listing_id"]), []).append(sku)
    if not hits:
        return None
    if len(hits) > 1:
        where = "; ".join(f"{lid}: {', '.join(s)}" for lid, s in sorted(hits.items()))
        return Ambiguity(product_id, sorted(hits), (
            f"not linked: its SKUs are split across Etsy listings ({where}); put them on one listing "
            "on Etsy (or split the product upstream), then sync again"))
    (lid, matched), = hits.items()
    if records.listing_owner(redis, shop_id, lid) not in (None, product_id):
        return None  # linked meanwhile by another product: an index entry not yet rewritten
    listing = shape.with_inventory(client.get_listing(lid, includes=["Images"]), client.get_listing_inventory(lid))
    emit("ListingLinked", shape.linked_data(shop_id, product_id, lid, matched), f"linked:{product_id}:{lid}")
    if not write_link(redis, shop_id, product_id, listing, lock_wait_seconds=lock_wait_seconds):
        return Ambiguity(product_id, [lid], f"not linked: Etsy listing {lid} is already another product's")
    return None
