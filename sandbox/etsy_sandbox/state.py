"""In-memory state of one sandbox: apps, users, shops, their objects, tokens.

One re-entrant lock guards everything; handlers hold it for the few
microseconds they need, so the server stays fast with many client threads.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from .config import SandboxConfig
from .ratelimit import RateLimiter

# First id of each kind: distinct ranges make a wrong id in a test obvious.
_ID_BASES = {
    "user": 51000001, "buyer": 71000001, "shop": 31000001, "shipping_profile": 190000001,
    "destination": 280000001, "readiness": 1400001, "return_policy": 1050001,
    "listing": 1500000001, "image": 5100000001, "product": 9000000001, "offering": 9500000001,
    "receipt": 3100000001, "transaction": 4100000001, "shipment": 6100000001, "value": 7700001,
    "fault": 1, "call": 1, "webhook": 1, "section": 41000001, "question": 8100000001, "upgrade": 8800001,
}


@dataclass
class App:
    keystring: str
    shared_secret: str
    limiter: RateLimiter
    redirect_uris: list[str] = field(default_factory=list)


class State:
    def __init__(self, config: SandboxConfig):
        self.lock = threading.RLock()
        self.started = time.time()
        self.reset(config)

    def reset(self, config: SandboxConfig) -> None:
        with self.lock:
            self.config = config
            self._ids = {kind: itertools.count(base) for kind, base in _ID_BASES.items()}
            self.apps: dict[str, App] = {}
            self.add_app(config.keystring, config.shared_secret)
            self.users: dict[int, dict] = {}
            self.shops: dict[int, dict] = {}
            self.shop_by_user: dict[int, int] = {}
            self.shipping_profiles: dict[int, dict] = {}
            self.destinations: dict[int, dict] = {}
            self.readiness: dict[int, dict] = {}
            self.return_policies: dict[int, dict] = {}
            self.sections: dict[int, dict] = {}
            self.translations: dict[tuple, dict] = {}
            self.personalization: dict[int, list] = {}
            self.listings: dict[int, dict] = {}
            self.images: dict[int, dict] = {}
            self.receipts: dict[int, dict] = {}
            self.receipts_by_shop: dict[int, list[int]] = {}
            self.buyers: dict[str, int] = {}
            self.custom_value_ids: dict[tuple, int] = {}
            # OAuth
            self.codes: dict[str, dict] = {}
            self.access_tokens: dict[str, dict] = {}
            self.refresh_tokens: dict[str, dict] = {}
            self.legacy_tokens: dict[str, dict] = {}
            self.authorize_user_id: int | None = None
            self.authorize_decision = "approve"
            # Observability
            self.calls: deque = deque(maxlen=config.call_log_size)
            self.violations: deque = deque(maxlen=5000)
            self.by_operation: Counter = Counter()
            self.status_counts: Counter = Counter()
            self.refreshes_by_shop: Counter = Counter()
            self.refresh_failures_by_shop: Counter = Counter()
            self.token_requests: Counter = Counter()
            self.writes = 0
            self.faults_injected = 0
            self.webhooks_sent: deque = deque(maxlen=1000)

    def next_id(self, kind: str) -> int:
        with self.lock:
            return next(self._ids[kind])

    def add_app(self, keystring: str, shared_secret: str, per_second: int | None = None,
                per_day: int | None = None, redirect_uris=None) -> App:
        with self.lock:
            cfg = self.config
            app = App(keystring, shared_secret,
                      RateLimiter(per_second or cfg.rate_per_second, per_day or cfg.rate_per_day, cfg.rate_window),
                      list(redirect_uris or []))
            self.apps[keystring] = app
            return app

    def shop_of_user(self, user_id: int) -> dict | None:
        shop_id = self.shop_by_user.get(user_id)
        return self.shops.get(shop_id) if shop_id else None
