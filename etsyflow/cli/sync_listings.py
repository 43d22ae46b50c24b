"""``etsyflow shop sync-listings``: the progress bar and the table (the command is in ``shop.py``).

Runs the sync in this process (``catalogue.linking.run``) with the shop's
stored tokens; without ``--dry-run`` its announcements are published on the
event bus as the actors' would be.
"""

from __future__ import annotations

import click

from ..ops.status import table


class Bar:
    """A ``click.progressbar`` opened once the total is known (after the first page of every state)."""

    def __init__(self, label: str):
        self.label, self.bar, self.done = label, None, 0

    def __call__(self, read: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, show_pos=True, file=None)
            self.bar.__enter__()
        if total > self.bar.length:
            self.bar.length = total
        self.bar.update(read - self.done)
        self.done = read

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def run(shop_id: int, *, dry_run: bool, as_json: bool) -> dict:
    from ..catalogue import linking, locks
    from ..messages import CloudEvent, publish
    from ..shops import shop_client
    from ..state import get_redis

    def emit(etype: str, data: dict, key: str) -> None:
        publish(CloudEvent.new(etype, data))

    bar = Bar(f"Reading shop {shop_id}'s listings") if not as_json else None
    try:
        report = linking.run(shop_id, client=shop_client(shop_id), redis=get_redis(), emit=emit,
                             dry_run=dry_run, progress=bar, lock_wait_seconds=5)
    except locks.Busy:
        raise click.ClickException(f"a listings sync of shop {shop_id} is running; `etsyflow status` "
                                   "shows its progress") from None
    finally:
        if bar is not None:
            bar.close()
    return summary(report, dry_run=dry_run)


def summary(report, *, dry_run: bool) -> dict:
    from ..schemas import linking as shape

    rows = []
    for link in report.linked:
        rows.append({"outcome": "linked" if not dry_run else "to link", "product_id": link.product_id,
                     "listing_id": link.listing_id, "state": shape.state(link.listing),
                     "detail": "SKU " + ", ".join(link.skus)})
    for product_id, listing_id in report.already:
        rows.append({"outcome": "already linked", "product_id": product_id, "listing_id": listing_id,
                     "state": None, "detail": ""})
    for product_id in report.to_create:
        rows.append({"outcome": "to be created", "product_id": product_id, "listing_id": None, "state": None,
                     "detail": "no Etsy listing has its SKUs"})
    for a in report.ambiguous:
        rows.append({"outcome": "ambiguous", "product_id": a.product_id, "listing_id": None, "state": None,
                     "candidates": a.candidates, "detail": a.reason})
    for listing in report.discovered:
        rows.append({"outcome": "discovered", "product_id": None, "listing_id": shape.listing_id(listing),
                     "state": shape.state(listing),
                     "detail": f"{listing.get('title')!s:.40} (SKU {', '.join(shape.skus(listing)) or '-'})"})
    return {"shop_id": report.shop_id, "dry_run": dry_run, "by_state": report.by_state,
            "minimum_calls": _minimum(report), **report.counts(), "rows": rows}


def _minimum(report) -> int:
    from ..catalogue.linking import minimum_calls

    return minimum_calls(report.by_state)


def render(result: dict) -> str:
    head = (f"Shop {result['shop_id']}: {result['listings']} Etsy listings "
            f"({', '.join(f'{k} {v}' for k, v in result['by_state'].items())}) read in {result['calls']} calls "
            f"(fewest possible: {result['minimum_calls']})")
    counts = (f"{'to link' if result['dry_run'] else 'linked'} {result['linked']}, "
              f"already linked {result['already_linked']}, "
              f"to be created {result['to_create']}, ambiguous {result['ambiguous']}, "
              f"discovered {result['discovered']}")
    rows = [[r["outcome"], r["product_id"], r["listing_id"], r["state"], r["detail"]] for r in result["rows"]]
    lines = [head, counts, ""]
    lines += table(["outcome", "product", "listing", "state", "detail"], rows)
    lines.append("")
    if result["dry_run"]:
        lines.append("Dry run: nothing was linked or announced. Run again without --dry-run to link "
                     "and announce (ListingLinked, ListingDiscovered, ListingRejected).")
    else:
        lines.append("Links written; announcements published on the event bus.")
    return "\n".join(lines)
