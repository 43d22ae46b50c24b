"""Image URLs cannot reach internal hosts (issue 12, item 4: server-side request forgery).

Two loopback servers stand in for the world: 127.0.0.1 is "internal" (never
allowed), 127.0.0.2 plays a public host (allowed through
``IMAGE_ALLOWED_NETWORKS``, as an operator would allow an internal media server).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etsyflow.catalogue import images
from tests.listings.conftest import png

PUBLIC = (ipaddress.ip_network("127.0.0.2/32"),)
SECRET = b"internal-only"


class Recorder(BaseHTTPRequestHandler):
    """Records every request; ``routes`` maps a path to (status, headers, body)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.seen.append((self.path, self.headers.get("Host")))
        if self.path == "/drip.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"\x89")
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            return
        status, headers, body = self.server.routes.get(self.path, (404, {}, b"no"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value.replace("{port}", str(self.server.server_address[1])))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(host: str, port: int, routes: dict):
    server = ThreadingHTTPServer((host, port), Recorder)
    server.daemon_threads = True
    server.seen, server.routes = [], routes
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def hosts():
    internal = serve("127.0.0.1", 0, {"/secret.png": (200, {"Content-Type": "image/png"}, png(7)),
                                      "/admin": (200, {"Content-Type": "application/x-internal"}, SECRET)})
    port = internal.server_address[1]
    try:
        public = serve("127.0.0.2", port, {})  # the same port on the "public" address
    except OSError:
        internal.shutdown()
        pytest.skip("could not bind 127.0.0.2 on the same port")
    public.routes.update({
        "/a.png": (200, {"Content-Type": "image/png"}, png(1)),
        "/to-internal": (302, {"Location": "http://127.0.0.1:{port}/secret.png"}, b""),
        "/to-metadata": (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/to-decimal": (307, {"Location": "http://2130706433:{port}/secret.png"}, b""),
        "/to-self": (302, {"Location": "/a.png"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/page": (200, {"Content-Type": "application/x-internal"}, b"<html>"),
    })
    yield internal, public, port
    for server in (internal, public):
        server.shutdown()
        server.server_close()


def refused(url: str, **kwargs) -> str:
    kwargs.setdefault("allowed_networks", PUBLIC)
    kwargs.setdefault("attempts", 1)
    with pytest.raises(images.ImageRefused) as caught:
        images.fetch(url, **kwargs)
    return caught.value.reason


HOST_FORMS = ["127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.0.0.1", "127.1", "localhost",
              "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]"]


@pytest.mark.parametrize("host", HOST_FORMS)
def test_internal_host_in_any_spelling_is_refused_without_a_request(hosts, host):
    internal, _public, port = hosts
    reason = refused(f"http://{host}:{port}/secret.png")
    assert "not allowed" in reason
    assert internal.seen == []


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://0.0.0.0:80/x.png",
                                 "http://10.0.0.1/x.png", "http://192.168.1.1/x.png", "http://172.16.0.1/x.png",
                                 "http://100.64.0.1/x.png", "http://224.0.0.1/x.png", "http://240.0.0.1/x.png",
                                 "http://[fe80::1]/x.png", "http://[fc00::1]/x.png", "http://[::]/x.png",
                                 "http://[ff02::1]/x.png", "http://[2002:7f00:1::]/x.png",
                                 "http://[64:ff9b::a9fe:a9fe]/x.png", "http://[::ffff:169.254.169.254]/x.png"])
def test_private_link_local_multicast_reserved_are_refused(url):
    started = time.monotonic()
    assert "not allowed" in refused(url, allowed_networks=())
    assert time.monotonic() - started < 2  # refused before any connection attempt


def test_allowed_network_is_fetched_with_its_host_name(hosts):
    _internal, public, port = hosts
    image = images.fetch(f"http://127.0.0.2:{port}/a.png", allowed_networks=PUBLIC)
    assert image.data == png(1)
    assert images.fetch(f"http://127.0.0.2:{port}/to-self", allowed_networks=PUBLIC).data == png(1)


@pytest.mark.parametrize("path", ["/to-internal", "/to-metadata", "/to-decimal"])
def test_redirect_to_an_internal_host_is_refused(hosts, path):
    internal, public, port = hosts
    reason = refused(f"http://127.0.0.2:{port}{path}")
    assert "not allowed" in reason
    assert internal.seen == [] and public.seen == [(path, f"127.0.0.2:{port}")]


def test_redirects_are_bounded(hosts):
    _internal, public, port = hosts
    assert "redirects" in refused(f"http://127.0.0.2:{port}/loop")
    assert len(public.seen) == images.MAX_REDIRECTS + 1


def test_user_info_is_refused_and_never_echoed(hosts):
    _internal, public, port = hosts
    reason = refused(f"http://user:hunter2@127.0.0.2:{port}/a.png")
    assert "user name or password" in reason and "hunter2" not in reason
    assert public.seen == []


def test_reasons_reveal_neither_content_types_nor_open_ports(hosts):
    internal, _public, port = hosts
    assert "x-internal" not in refused(f"http://127.0.0.2:{port}/page")
    # An internal port that is open and one that is closed read the same.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    open_reason = refused(f"http://127.0.0.1:{port}/admin").replace(str(port), "P")
    closed_reason = refused(f"http://127.0.0.1:{closed_port}/admin").replace(str(closed_port), "P")
    assert open_reason == closed_reason
    assert internal.seen == []


def test_dns_rebinding_connects_to_the_checked_address(hosts, monkeypatch):
    """The name resolves to an allowed address when checked, then to an internal one."""
    internal, public, port = hosts
    real = socket.getaddrinfo
    answers = iter(["127.0.0.2"])

    def rebinding(host, *args, **kwargs):
        if host == "media.example":
            return real(next(answers, "127.0.0.1"), *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    image = images.fetch(f"http://media.example:{port}/a.png", allowed_networks=PUBLIC, attempts=1)
    assert image.data == png(1)
    assert public.seen == [("/a.png", f"media.example:{port}")]  # Host header kept
    assert internal.seen == []


def test_slow_drip_is_cut_at_the_deadline(hosts):
    _internal, _public, port = hosts
    started = time.monotonic()
    reason = refused(f"http://127.0.0.2:{port}/drip.png", timeout=(2.0, 5.0), deadline=2.0, attempts=2)
    assert time.monotonic() - started < 4.0
    assert "could not be downloaded" in reason
    assert images.DEADLINE_SECONDS <= 30


def test_image_allowed_networks_setting(configure):
    from etsyflow.config import ConfigError, Settings

    settings = configure(IMAGE_ALLOWED_NETWORKS="10.20.0.0/16, 127.0.0.1/32,fd00::/8")
    assert [str(n) for n in settings.image_allowed_networks] == ["10.20.0.0/16", "127.0.0.1/32", "fd00::/8"]
    assert Settings.from_env({}).image_allowed_networks == ()
    with pytest.raises(ConfigError, match="IMAGE_ALLOWED_NETWORKS"):
        Settings.from_env({"IMAGE_ALLOWED_NETWORKS": "10.0.0.0/33"})


NON_PUBLIC_V4 = ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                 "100.64.0.0/10", "0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"]


@settings(max_examples=400, deadline=None)
@given(net=st.sampled_from(NON_PUBLIC_V4), offset=st.integers(0, 2**32), form=st.sampled_from(["v4", "mapped"]))
def test_no_address_of_a_non_public_range_passes(net, offset, form):
    network = ipaddress.ip_network(net)
    ip = network[offset % network.num_addresses]
    address = str(ip) if form == "v4" else f"::ffff:{ip}"
    assert not images.allowed_address(address)


def test_a_resolver_that_hangs_is_bounded_by_the_deadline(monkeypatch):
    real = socket.getaddrinfo

    def hanging(host, *args, **kwargs):
        if host == "slow-dns.example":
            time.sleep(8)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    started = time.monotonic()
    reason = refused("http://slow-dns.example/a.png", deadline=2.0, attempts=2)
    assert "could not be downloaded" in reason
    assert time.monotonic() - started < 3.5
