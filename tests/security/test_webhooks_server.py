"""The webhook receiver on a production server (issue 12, item 9): loopback by
default, threads bounded, oversized chunked bodies answered 413, non-UTF-8 400."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from etsyflow.shops.store import ShopStore
from etsyflow.webhooks import PATH, create_app, serve
from etsyflow.webhooks.app import MAX_BODY_BYTES, THREADS
from tests.orders.test_webhook_app import SHOP, notification
from tests.orders.test_webhook_verify import SECRET, headers


@pytest.fixture
def server(embedded):
    ShopStore().save_tokens(SHOP, "51000001.access", "51000001.refresh", 3600, connected=True)
    published = []
    srv = serve(0, app=create_app(SECRET, publish_event=published.append))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv, published
    srv.shutdown()
    thread.join(10)
    assert not thread.is_alive(), "the server did not stop"


def connect(srv) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", srv.server_port, timeout=10)


def test_listens_on_loopback_by_default(server):
    srv, _ = server
    assert srv._server.effective_host == "127.0.0.1"


def test_a_genuine_notification_is_accepted(server):
    srv, published = server
    body = notification()
    conn = connect(srv)
    conn.request("POST", PATH, body=body, headers={**headers(body=body, msg_id="m1"),
                                                   "Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    assert len(published) == 1


def test_chunked_body_over_the_limit_is_413_at_once(server):
    """The answer comes as soon as the limit is passed, without the rest of the body.

    The client sends a few chunks past the limit and then stops (no last chunk):
    a server that waited for the end of the body would never answer. Sending
    on after the server has answered and closed would race a TCP reset against
    reading the answer, so the client does not."""
    srv, published = server
    head = "".join(f"{k}: {v}\r\n" for k, v in headers(body=b"x", msg_id="m2").items())
    chunk = b"x" * 4096
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * (MAX_BODY_BYTES // len(chunk) + 2)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", srv.server_port), timeout=5) as sock:
        sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n{head}\r\n"
                     .encode() + body)
        answer = sock.makefile("rb").readline()
    assert answer.split()[1:2] == [b"413"], answer
    assert time.monotonic() - started < 5
    assert published == []


def test_body_over_the_limit_with_a_length_is_413(server):
    srv, _ = server
    conn = connect(srv)
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    conn.request("POST", PATH, body=body, headers=headers(body=body, msg_id="m3"))
    assert conn.getresponse().status == 413


def test_non_utf8_body_is_400(server):
    srv, _ = server
    body = b'{"event_type": "ORDER_PAID", "shop_id": \xff\xfe}'
    conn = connect(srv)
    conn.request("POST", PATH, body=body, headers=headers(body=b"{}", msg_id="m4"))
    response = conn.getresponse()
    assert response.status == 400 and b"UTF-8" in response.read()


def test_half_sent_requests_do_not_take_threads(server):
    """Slow clients once held one thread each (500 of them, 501 threads)."""
    srv, _ = server
    before = threading.active_count()
    idle = []
    for _ in range(60):
        sock = socket.create_connection(("127.0.0.1", srv.server_port), timeout=5)
        sock.sendall(b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        idle.append(sock)
    try:
        conn = connect(srv)
        started = time.monotonic()
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
        assert time.monotonic() - started < 2
        assert threading.active_count() <= before + THREADS
    finally:
        for sock in idle:
            sock.close()


def test_deeply_nested_signed_body_is_400_not_500(server):
    srv, published = server
    body = b"[" * 20000 + b"]" * 20000
    conn = connect(srv)
    conn.request("POST", PATH, body=body, headers=headers(body=body, msg_id="m5"))
    assert conn.getresponse().status == 400
    assert published == []
