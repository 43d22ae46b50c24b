"""Hooks run when a shop is (re)connected.

The worker layer registers e.g. the replay of work parked while the shop's
tokens were revoked::

    from etsyflow.shops import on_reconnect
    on_reconnect.append(lambda shop_id: replay_parked(shop_id))

A hook that fails is logged; it never undoes the connection.
"""

from __future__ import annotations

from typing import Callable

from ..config.logging import get_logger

log = get_logger("etsyflow.shops")

#: ``hook(shop_id: int)`` callables, run in order after every successful
#: connect/complete, import and import-legacy.
on_reconnect: list[Callable[[int], None]] = []


def run_reconnect_hooks(shop_id: int) -> None:
    for hook in list(on_reconnect):
        try:
            hook(int(shop_id))
        except Exception as error:
            log.error("reconnect_hook_failed", shop_id=shop_id, hook=getattr(hook, "__name__", repr(hook)),
                      error=str(error))
