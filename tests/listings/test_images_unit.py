"""Image download: bounded in time and size, and only real images pass."""

import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etsyflow.catalogue import images

# The image server of these tests is on loopback: allowed explicitly, as
# IMAGE_ALLOWED_NETWORKS does for a deployment.
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)

from .conftest import jpeg, png


class _Handler(BaseHTTPRequestHandler):
    routes = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        status, ctype, body, delay = self.routes.get(self.path, (404, "text/plain", b"no", 0))
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout test)
            pass


@pytest.fixture(scope="module")
def server():
    _Handler.routes = {
        "/a.png": (200, "image/png", png(1), 0),
        "/b.jpg": (200, "image/jpeg", jpeg(2), 0),
        "/octet.png": (200, "application/octet-stream", png(3), 0),
        "/big.png": (200, "image/png", png(4) + b"\0" * 5000, 0),
        "/page": (200, "text/html", b"<html></html>", 0),
        "/liar.png": (200, "image/png", b"GIF? no, text", 0),
        "/broken": (503, "text/plain", b"busy", 0),
        "/slow.png": (200, "image/png", png(5), 2.0),
    }
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_png_and_jpeg_are_fetched_with_their_type(server):
    a = images.fetch(server + "/a.png", allowed_networks=LOOPBACK)
    assert (a.ext, a.content_type, a.filename) == ("png", "image/png", "image.png") and a.data == png(1)
    assert images.fetch(server + "/b.jpg", allowed_networks=LOOPBACK).ext == "jpg"
    assert images.fetch(server + "/octet.png", allowed_networks=LOOPBACK).ext == "png"  # a generic type: the bytes decide


@pytest.mark.parametrize("path, words", [
    ("/page", "is not an image"),
    ("/liar.png", "is not a JPEG, PNG, GIF or WebP image"),
    ("/missing.png", "HTTP 404"),
])
def test_what_is_not_an_image_is_refused(server, path, words):
    with pytest.raises(images.ImageRefused) as error:
        images.fetch(server + path, allowed_networks=LOOPBACK)
    assert words in error.value.reason and path in error.value.reason


def test_size_cap(server):
    with pytest.raises(images.ImageRefused, match="larger than the limit of 1000 bytes"):
        images.fetch(server + "/big.png", max_bytes=1000, allowed_networks=LOOPBACK)


def test_slow_and_failing_hosts_are_bounded_then_refused(server):
    started = time.monotonic()
    with pytest.raises(images.ImageRefused, match="could not be downloaded"):
        images.fetch(server + "/slow.png", timeout=(1.0, 0.3), attempts=2, allowed_networks=LOOPBACK)
    assert time.monotonic() - started < 3.0
    with pytest.raises(images.ImageRefused, match="HTTP 503"):
        images.fetch(server + "/broken", attempts=2, allowed_networks=LOOPBACK)


def test_unreachable_host_is_refused_not_retried_forever():
    started = time.monotonic()
    with pytest.raises(images.ImageRefused, match="could not be downloaded"):
        images.fetch("http://127.0.0.1:9/x.png", attempts=2, allowed_networks=LOOPBACK)
    assert time.monotonic() - started < 5.0
