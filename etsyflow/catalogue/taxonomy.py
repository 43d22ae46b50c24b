"""Category properties (``getPropertiesByTaxonomyId``), cached in Redis.

Etsy's taxonomy changes rarely and is the same for every shop: one call per
category per :data:`TTL_SECONDS` serves every listing of every shop.
"""

from __future__ import annotations

import json

from . import keys
from .shop import single_flight

#: How long a category's properties are reused (seconds).
TTL_SECONDS = 24 * 3600


def properties(client, redis, taxonomy_id: int) -> list[dict]:
    """The category's ``TaxonomyNodeProperty`` list (cached)."""
    def fill() -> str:
        answer = client.get_properties_by_taxonomy_id(int(taxonomy_id)) or {}
        results = answer.get("results") if isinstance(answer, dict) else answer
        return json.dumps(list(results or []))

    return json.loads(single_flight(redis, keys.taxonomy_properties(taxonomy_id), fill, ttl_seconds=TTL_SECONDS))


def forget(redis, taxonomy_id: int) -> None:
    redis.delete(keys.taxonomy_properties(taxonomy_id))
