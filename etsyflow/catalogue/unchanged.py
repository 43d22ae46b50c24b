"""A product sent again unchanged costs one Redis round trip: no preparation, no lock, no Etsy call.

A nightly full republish sends every product again; almost all are as they
were. :func:`check` answers "nothing to do" when the product's data is the
data of its last complete sync and nothing it depends on has been written
since: its listing record (every write stamps ``updated_at``: a stock change,
a sync, a link), its delivery template's record and the shop's return policy.
Anything else, or any doubt, and the full :func:`.listings.sync` runs.

One record per product::

    etsyflow:listing-synced:<shop>:<product_id>   HASH  token, data (fingerprint), state (pending/done),
                                                        link, tpl, policy (what the sync left), listing_id,
                                                        listing_state

Written in two steps so that two syncs of one product never leave the
record of the earlier one: :func:`begin` (under the product's lock, when a
sync starts: a new token, ``pending``) and :func:`done` (after the sync: only
if the token is still ours, it records what the sync left and says ``done``).
Kept :data:`TTL_SECONDS`; a missing record only means a full sync.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from . import keys, records

#: How long the record of a sync is kept (seconds): longer than a republish cycle.
TTL_SECONDS = 30 * 24 * 3600

# Mark a sync done (and record what it left) only if it is still the latest one begun.
_DONE = """
-- KEYS: 1 synced record, 2 listing record, 3 template record, 4 return policy cache
-- ARGV: 1 token, 2 ttl seconds
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
local link = redis.call('HMGET', KEYS[2], 'updated_at', 'listing_id', 'state')
if not link[1] or not link[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'link', link[1], 'listing_id', link[2], 'listing_state', link[3] or '',
           'tpl', redis.call('HGET', KEYS[3], 'updated_at') or '', 'policy', redis.call('GET', KEYS[4]) or '')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""


@dataclass(frozen=True)
class Same:
    """The product is on Etsy as this data says: its listing id and state."""

    listing_id: int
    state: str


def record_key(shop_id: int, product_id: str) -> str:
    return f"{keys.P}:listing-synced:{int(shop_id)}:{product_id}"


def _keys(data: dict) -> list[str]:
    shop_id, product_id = data["shop_id"], data["product_id"]
    return [record_key(shop_id, product_id), keys.listing(shop_id, product_id),
            keys.template(shop_id, data["delivery_template_id"]), keys.return_policy(shop_id)]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def check(redis, data: dict) -> Same | None:
    """:class:`Same` when ``data`` is what the last complete sync of the product wrote, and nothing
    it depends on changed since; None when a sync is needed. One round trip."""
    record_k, link_k, tpl_k, policy_k = _keys(data)
    pipe = redis.pipeline(transaction=False)
    pipe.hgetall(record_k)
    pipe.hget(link_k, "updated_at")
    pipe.hget(tpl_k, "updated_at")
    pipe.get(policy_k)
    raw, link_version, tpl_version, policy = pipe.execute()
    record = {_text(k): _text(v) for k, v in (raw or {}).items()}
    if record.get("state") != "done" or record.get("data") != records.fingerprint(data):
        return None
    if (record.get("link"), record.get("tpl"), record.get("policy")) != (
            _text(link_version), _text(tpl_version), _text(policy)) or not record.get("link"):
        return None
    try:
        return Same(int(record["listing_id"]), record.get("listing_state") or "draft")
    except (KeyError, ValueError):
        return None


def begin(redis, data: dict) -> str:
    """A sync of ``data`` starts (call it holding the product's lock); returns its token for :func:`done`."""
    token = secrets.token_hex(8)
    redis.hset(_keys(data)[0], mapping={"token": token, "state": "pending", "data": records.fingerprint(data)})
    redis.expire(_keys(data)[0], TTL_SECONDS)
    return token


def done(redis, data: dict, token: str | None) -> bool:
    """The sync begun with ``token`` completed: record what it left, unless a later one has begun."""
    if not token:
        return False
    return bool(redis.eval(_DONE, 4, *_keys(data), token, TTL_SECONDS))
