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
    srv, published = server
    conn = connect(srv)
    started = time.monotonic()
    chunks = iter([b"x" * 4096] * (MAX_BODY_BYTES // 4096 + 4))
    try:
        conn.request("POST", PATH, body=chunks, encode_chunked=True,
                     headers={**headers(body=b"x", msg_id="m2"), "Transfer-Encoding": "chunked"})
        status = conn.getresponse().status
    except (BrokenPipeError, ConnectionResetError):  # the server may answer and close mid-send
        pytest.fail("the server closed the connection without an answer")
    assert status == 413
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
