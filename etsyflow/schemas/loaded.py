"""Validated event data carried from the bridge to its actor, so it is not validated twice.

The bridge validates every event (envelope and data, :func:`.validate.validate_event`)
and hands the actor the *loaded* data with it; validating a listing again in
the actor would cost as much as the bridge's hop itself (about 1.5 ms of CPU
for a listing with 3 images and 4 variations). Loaded data is JSON but for its
money amounts (``Decimal``), so :func:`pack` writes each ``Decimal`` as its
string and lists where they were; :func:`unpack` puts them back. A value of
any other non-JSON type makes :func:`pack` return None, and the actor then
validates the event itself, as it does for every message that did not come
through the bridge (a parked message replayed, a test's direct send).
"""

from __future__ import annotations

from decimal import Decimal

_JSON_SCALARS = (str, int, float, bool, type(None))


class _NotPackable(Exception):
    pass


def pack(data: dict) -> dict | None:
    """``{"data": <JSON>, "decimals": [path, …]}`` for loaded ``data``, or None when not packable."""
    decimals: list[list] = []

    def walk(value, path):
        if isinstance(value, Decimal):
            decimals.append(path)
            return str(value)
        if isinstance(value, dict):
            if not all(isinstance(key, str) for key in value):
                raise _NotPackable
            return {key: walk(item, path + [key]) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, path + [i]) for i, item in enumerate(value)]
        if isinstance(value, _JSON_SCALARS):
            return value
        raise _NotPackable

    try:
        return {"data": walk(data, []), "decimals": decimals}
    except _NotPackable:
        return None


def unpack(packed) -> dict | None:
    """A new copy of the loaded data :func:`pack` wrote (None for anything else).

    A copy: the packed form stays JSON, as the broker must encode it again on a retry.
    """
    if not isinstance(packed, dict) or not isinstance(packed.get("data"), dict):
        return None
    decimals = {tuple(path) for path in packed.get("decimals") or () if isinstance(path, list)}

    def walk(value, path):
        if isinstance(value, dict):
            return {key: walk(item, path + (key,)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, path + (i,)) for i, item in enumerate(value)]
        if path in decimals and isinstance(value, str):
            return Decimal(value)
        return value

    return walk(packed["data"], ())
