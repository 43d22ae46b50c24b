"""Run a sandbox in a background thread for tests and demos.

    from etsy_sandbox.testing import run_sandbox

    with run_sandbox(rate_per_second=5) as sandbox:
        shop = sandbox.admin.create_shop()          # ids + a ready token pair
        requests.get(sandbox.url + "/v3/application/users/me",
                     headers={"x-api-key": sandbox.api_key,
                              "Authorization": "Bearer " + shop["access_token"]}, timeout=5)

``sandbox.url`` is the value for ``ETSY_API_URL``; the authorize page is
``sandbox.authorize_url`` (``sandbox.url + "/oauth/connect"``).
"""

from __future__ import annotations

import contextlib
import threading

import requests

from .app import create_app
from .server import build_server


class AdminClient:
    """A small client over the admin HTTP API; every call has a timeout (seconds)."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base = base_url.rstrip("/") + "/_sandbox"
        self.timeout = timeout
        self.session = requests.Session()

    def request(self, method: str, path: str, json=None, params=None, expect=(200, 201)):
        response = self.session.request(method, self.base + path, json=json, params=params, timeout=self.timeout)
        if expect and response.status_code not in expect:
            raise AssertionError(f"admin {method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    # conveniences; each returns the JSON the endpoint answers
    def health(self):
        return self.request("GET", "/health")

    def reset(self, keep_config=True):
        return self.request("POST", "/reset", {"keep_config": keep_config})

    def config(self, **changes):
        return self.request("PUT", "/config", changes) if changes else self.request("GET", "/config")

    def create_app(self, **fields):
        return self.request("POST", "/apps", fields)

    def create_shop(self, **fields):
        return self.request("POST", "/shops", fields)

    def shop(self, shop_id):
        return self.request("GET", f"/shops/{shop_id}")

    def issue_tokens(self, shop_id, **fields):
        return self.request("POST", f"/shops/{shop_id}/tokens", fields)

    def revoke_tokens(self, shop_id):
        return self.request("POST", f"/shops/{shop_id}/revoke-tokens", {})

    def expire_tokens(self, *, access_token=None, shop_id=None):
        body = {"access_token": access_token} if access_token else {"shop_id": shop_id}
        return self.request("POST", "/tokens/expire", body)

    def legacy_token(self, shop_id, **fields):
        return self.request("POST", "/legacy-tokens", {"shop_id": shop_id, **fields})

    def oauth(self, **fields):
        return self.request("PUT", "/oauth", fields)

    def calls(self, **params):
        return self.request("GET", "/calls", params=params)["calls"]

    def clear_calls(self):
        return self.request("DELETE", "/calls")

    def counters(self):
        return self.request("GET", "/counters")

    def reset_counters(self):
        return self.request("POST", "/counters/reset", {})

    def violations(self):
        return self.request("GET", "/violations")["violations"]

    def clear_violations(self):
        return self.request("DELETE", "/violations")

    def add_fault(self, **rule):
        return self.request("POST", "/faults", rule)

    def faults(self):
        return self.request("GET", "/faults")["faults"]

    def clear_faults(self):
        return self.request("DELETE", "/faults")

    def rate_limits(self, **fields):
        return self.request("PUT", "/rate-limits", fields) if fields else self.request("GET", "/rate-limits")

    def create_receipt(self, shop_id, **fields):
        return self.request("POST", f"/shops/{shop_id}/receipts", fields)

    def bulk_receipts(self, shop_id, count, **fields):
        return self.request("POST", f"/shops/{shop_id}/receipts/bulk", {"count": count, **fields})

    def receipt(self, receipt_id):
        return self.request("GET", f"/receipts/{receipt_id}")

    def receipt_action(self, receipt_id, action, **fields):
        return self.request("POST", f"/receipts/{receipt_id}/{action}", fields)

    def freeze_listing(self, listing_id, frozen=True):
        return self.request("POST", f"/listings/{listing_id}/freeze", {"frozen": frozen})

    def webhooks(self, **fields):
        return self.request("PUT", "/webhooks", fields) if fields else self.request("GET", "/webhooks")

    def send_webhook(self, shop_id, **fields):
        return self.request("POST", "/webhooks/send", {"shop_id": shop_id, **fields})


class SandboxHandle:
    def __init__(self, sandbox, server, thread):
        self.app = sandbox  # in-process access (prefer the HTTP admin API in tests)
        self.server = server
        self.thread = thread
        host, port = server.server_address[:2]
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self.authorize_url = self.url + "/oauth/connect"
        self.admin = AdminClient(self.url)
        self.keystring = sandbox.config.keystring
        self.shared_secret = sandbox.config.shared_secret

    @property
    def api_key(self) -> str:
        """The ``x-api-key`` header value: ``KEYSTRING:SHARED_SECRET``."""
        return f"{self.keystring}:{self.shared_secret}"

    def env(self) -> dict[str, str]:
        """Environment variables that point etsyflow (or any tool reading the same names) at this sandbox."""
        return {"ETSY_API_URL": self.url, "ETSY_AUTHORIZE_URL": self.authorize_url,
                "ETSY_KEYSTRING": self.keystring, "ETSY_SHARED_SECRET": self.shared_secret}

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving; injected delays wake up at once. Bounded by ``timeout`` seconds."""
        self.app.stopping.set()
        stopper = threading.Thread(target=self.server.shutdown, daemon=True)
        stopper.start()
        stopper.join(timeout)
        self.thread.join(timeout)
        self.server.server_close()


@contextlib.contextmanager
def run_sandbox(host: str = "127.0.0.1", port: int = 0, **config):
    """Start a sandbox (``config``: :class:`SandboxConfig` fields) and stop it on exit."""
    sandbox = create_app(**config)
    server = build_server(sandbox, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"etsy-sandbox-{server.server_address[1]}", daemon=True)
    thread.start()
    handle = SandboxHandle(sandbox, server, thread)
    try:
        yield handle
    finally:
        handle.stop()
