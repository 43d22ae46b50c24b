"""Limit/offset pagination over Etsy's ``{count, results}`` pages."""

from __future__ import annotations

from typing import Callable, Iterator

#: Etsy's largest page.
MAX_LIMIT = 100


def iter_results(fetch: Callable[[int, int], dict], *, limit: int = MAX_LIMIT,
                 max_items: int | None = None) -> Iterator[dict]:
    """Yield every result of ``fetch(limit, offset)`` pages until ``count`` is reached.

    Stops on an empty or short page too (Etsy's ``count`` can move while we
    read), so a changing collection never loops forever. ``max_items`` caps
    the total.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1-{MAX_LIMIT}, got {limit}")
    offset = 0
    seen = 0
    while True:
        page = fetch(limit, offset) or {}
        results = page.get("results") or []
        for item in results:
            yield item
            seen += 1
            if max_items is not None and seen >= max_items:
                return
        offset += len(results)
        count = page.get("count")
        if len(results) < limit or (isinstance(count, int) and offset >= count):
            return
