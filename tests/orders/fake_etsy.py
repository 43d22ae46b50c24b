"""A stand-in for Etsy's getShopReceipts (filters, sort, limit/offset, count) for poll-loop unit tests.

The integration tests run the same scenarios against the sandbox over HTTP.
"""

from __future__ import annotations

import copy
from typing import Callable

from .etsy_shapes import receipt


class FakeReceipts:
    def __init__(self, start: int = 1_764_417_600):
        self.receipts: dict[int, dict] = {}
        self.calls: list[dict] = []
        self.next_id = 3100000001
        self.clock = start
        self.before_call: Callable[[int], None] | None = None
        self.fail_on_call: int | None = None
        self.hide_canceled = False

    def add(self, n: int = 1, *, at: int | None = None, step: int = 0, **over) -> list[int]:
        ids = []
        for i in range(n):
            ts = (at if at is not None else self.clock) + i * step
            rid = self.next_id
            self.next_id += 1
            self.receipts[rid] = receipt(receipt_id=rid, created_timestamp=ts, create_timestamp=ts,
                                         updated_timestamp=ts, update_timestamp=ts, **over)
            ids.append(rid)
        return ids

    def change(self, rid: int, *, bump: bool = True, at: int | None = None, **over) -> None:
        r = self.receipts[rid]
        r.update(over)
        if bump:
            ts = at if at is not None else max(self.clock, r["updated_timestamp"] + 1)
            r["updated_timestamp"] = r["update_timestamp"] = ts

    def get_shop_receipts(self, *, min_created=None, min_last_modified=None, limit=25, offset=0, sort_on="created",
                          sort_order="desc", was_canceled=None, **_):
        self.calls.append(dict(min_created=min_created, min_last_modified=min_last_modified, limit=limit,
                               offset=offset, sort_on=sort_on, was_canceled=was_canceled))
        if self.before_call:
            self.before_call(len(self.calls))
        if self.fail_on_call == len(self.calls):
            raise ConnectionError("injected failure")
        rows = list(self.receipts.values())
        if min_created is not None:
            rows = [r for r in rows if r["created_timestamp"] >= min_created]
        if min_last_modified is not None:
            rows = [r for r in rows if r["updated_timestamp"] >= min_last_modified]
        if was_canceled is not None:
            rows = [r for r in rows if (r["status"] == "canceled") == was_canceled]
        elif self.hide_canceled:
            rows = [r for r in rows if r["status"] != "canceled"]
        key = {"created": "created_timestamp", "updated": "updated_timestamp", "receipt_id": "receipt_id"}[sort_on]
        rows.sort(key=lambda r: (r[key], r["receipt_id"]), reverse=sort_order in ("desc", "descending", "down"))
        return {"count": len(rows), "results": copy.deepcopy(rows[offset:offset + limit])}
