"""Fixtures for the catalogue tests: sandbox over HTTP, real Redis, runtime, tail, and an image server.

Redis: DB ``ETSYFLOW_TEST_REDIS_DB`` (flushed before and after each test by
the root ``redis_url`` fixture). Images are generated in the test and served
by a local HTTP server: no internet.
"""

from __future__ import annotations

import struct
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etsyflow.messages import CloudEvent, publish

# -- images ---------------------------------------------------------------------------

def png(seed: int, size: int = 4) -> bytes:
    """A valid PNG whose pixels depend on ``seed`` (distinct bytes per seed)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    rgb = bytes([(seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256])
    raw = (b"\x00" + rgb * size) * size
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg(seed: int) -> bytes:
    """Bytes with a JPEG signature and a minimal frame header (enough for a type check)."""
    sof = b"\xff\xc0\x00\x11\x08\x00\x04\x00\x04\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + sof + bytes([seed % 256]) * 32 \
        + b"\xff\xd9"


class ImageServer:
    """Serves ``/img/<n>.png`` and ``/img/<n>.jpg`` (generated), ``/slow/<seconds>/<n>.png`` (the
    same after a wait: a slow image host), ``/page.html`` (not an image), ``/missing.png`` (404),
    ``/fake.png`` (text with an image content type)."""

    def __init__(self):
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits.append(self.path)
                status, ctype, body = server.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def answer(self, path: str):
        if path.startswith("/slow/"):
            seconds, _, rest = path[len("/slow/"):].partition("/")
            time.sleep(float(seconds))
            path = "/img/" + rest
        if path.startswith("/img/"):
            name = path[len("/img/"):]
            number, _, ext = name.partition(".")
            if number.isdigit() and ext == "png":
                return 200, "image/png", png(int(number))
            if number.isdigit() and ext == "jpg":
                return 200, "image/jpeg", jpeg(int(number))
        if path == "/page.html":
            return 200, "text/html; charset=utf-8", b"<html><body>not an image</body></html>"
        if path == "/fake.png":
            return 200, "image/png", b"this is text pretending to be a png"
        return 404, "text/plain", b"not found"

    def image(self, n: int, ext: str = "png") -> str:
        return f"{self.url}/img/{n}.{ext}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def images():
    server = ImageServer()
    yield server
    server.stop()


# -- sandbox, settings, runtime -------------------------------------------------------------

@pytest.fixture(scope="module")
def sandbox_server():
    from etsy_sandbox.testing import run_sandbox

    with run_sandbox(rate_per_second=1000, rate_per_day=1_000_000) as handle:
        yield handle


WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Catalogue:
    """One connected shop on a fresh sandbox, etsyflow running on real Redis."""

    sandbox: object
    shop_id: int
    tail: object
    runtime: object
    images: ImageServer
    marks: dict = field(default_factory=dict)

    @property
    def admin(self):
        return self.sandbox.admin

    def publish(self, event_type: str, data: dict) -> CloudEvent:
        return publish(CloudEvent.new(event_type, data, source="pim", id=str(uuid.uuid4())))

    def outcome(self, event: CloudEvent, types: tuple[str, ...], timeout: float = 30.0) -> dict:
        """The follow-up (one of ``types``) caused by ``event``."""
        deadline = time.monotonic() + timeout
        while True:
            for t in types:
                found = self.tail.of_type(t, lambda e: e.get("causationid") == event.id)
                if found:
                    return found[0]
            if time.monotonic() > deadline:
                seen = [(e.get("type"), e.get("data")) for e in self.tail.events[-10:]]
                raise TimeoutError(f"no {types} for {event.type} {event.id} within {timeout} s; last: {seen}")
            time.sleep(0.05)

    def send(self, event_type: str, data: dict, types: tuple[str, ...], timeout: float = 30.0) -> dict:
        return self.outcome(self.publish(event_type, data), types, timeout)

    # -- sandbox views --------------------------------------------------------------
    def calls(self, since: int = 0) -> list[dict]:
        return [c for c in self.admin.calls(since_seq=since, limit=100000)
                if c["path"].startswith("/v3/application")]

    def mark(self) -> int:
        calls = self.admin.calls(limit=1)
        return calls[-1]["seq"] if calls else 0

    def writes(self, since: int) -> list[dict]:
        return [c for c in self.calls(since) if c["method"] in WRITES]

    def listings(self) -> list[dict]:
        state = self.sandbox.app.state
        with state.lock:
            return [dict(l) for l in state.listings.values() if l["shop_id"] == self.shop_id]

    def listing(self, listing_id: int) -> dict:
        state = self.sandbox.app.state
        with state.lock:
            return state.listings[listing_id]

    def etsy(self, method: str, path: str, **kwargs):
        import requests

        token = self.marks["access_token"]
        response = requests.request(method, self.sandbox.url + "/v3/application" + path, timeout=10,
                                    headers={"x-api-key": self.sandbox.api_key, "Authorization": f"Bearer {token}"},
                                    **kwargs)
        assert response.status_code < 400, response.text
        return response.json() if response.content else None


@pytest.fixture
def catalogue(sandbox_server, configure, redis_url, images):
    from etsyflow.messages.tail import EventTail
    from etsyflow.runtime import Runtime
    from etsyflow.shops.store import ShopStore
    from etsyflow.state import get_redis

    sandbox_server.admin.reset()
    sandbox_server.admin.config(rate_per_second=1000, rate_per_day=1_000_000, strict=True)
    configure(REDIS_URL=redis_url, ETSY_API_URL=sandbox_server.url, ETSY_KEYSTRING=sandbox_server.keystring,
              ETSY_SHARED_SECRET=sandbox_server.shared_secret, ETSY_RATE_PER_SECOND=500,
              ETSY_RATE_PER_DAY=1_000_000, ETSY_TIMEOUT_SECONDS=5)
    shop = sandbox_server.admin.create_shop(shop_name="CatalogueShop", country_iso="US")
    ShopStore(get_redis()).save_tokens(shop["shop_id"], shop["access_token"], shop["refresh_token"],
                                       shop["expires_in"], connected=True, user_id=shop.get("user_id"),
                                       shop_name="CatalogueShop")
    with EventTail() as tail:
        runtime = Runtime(worker_threads=4).start()
        try:
            yield Catalogue(sandbox_server, shop["shop_id"], tail, runtime, images,
                            marks={"access_token": shop["access_token"]})
        finally:
            runtime.stop()
    sandbox_server.admin.clear_faults()
