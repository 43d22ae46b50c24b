"""Prometheus: a real `etsyflow worker` process and the bridge serve the named series on METRICS_PORT."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from etsyflow.messages import CloudEvent

from .conftest import eventually

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> str | None:
    """The exposition text, or None while nothing answers."""
    try:
        response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
    except requests.RequestException:
        return None
    return response.text if response.status_code == 200 else None


def value(text: str, name: str, **labels) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in (text or "").splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([-+0-9.eE]+|NaN|\+Inf)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(k) == str(v) for k, v in labels.items()):
            total += float(match.group(3))
    return total


@pytest.fixture
def worker_process(ops_shop, sandbox, redis_url, tmp_path):
    from tests.conftest import TEST_SECRET_KEY

    port = free_port()
    env = dict(os.environ, REDIS_URL=redis_url, SECRET_KEY=TEST_SECRET_KEY, METRICS_PORT=str(port), METRICS_REFRESH_SECONDS="0.5",
               ETSY_TIMEOUT_SECONDS="2", LOG_LEVEL="WARNING", **sandbox.env())
    for name in ("dramatiq_prom_db", "dramatiq_prom_port", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "etsyflow"), "worker", "--processes", "1",
                             "--threads", "2"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        eventually(lambda: proc.poll() is not None or scrape(port) is not None,
                   timeout=30, what="the worker's metrics endpoint")
        assert proc.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


def test_worker_serves_dramatiq_and_etsyflow_series(ops_shop, sandbox, worker_process, tail):
    from etsyflow.workers.broker import build_broker
    from etsyflow.workers import setup

    port = worker_process
    actors = setup(build_broker())
    # one 429 from Etsy, an expired token (one refresh), then a stock change that Etsy answers
    sandbox.admin.add_fault(operation="getListingsByShop", kind="status", status=429, times=1)
    sandbox.admin.expire_tokens(shop_id=ops_shop)
    ok = CloudEvent.new("StockChanged", {"shop_id": ops_shop, "sku": "MUG-1", "quantity": 2}, source="pim")
    actors["StockChanged"].send(ok.to_dict())
    tail.wait_for("StockRejected", lambda e: e.get("causationid") == ok.id, timeout=30)
    # a message that fails for good: retried once, then dead-lettered
    sandbox.admin.add_fault(operation="*", kind="status", status=500)
    doomed = CloudEvent.new("StockChanged", {"shop_id": ops_shop, "sku": "MUG-2", "quantity": 2}, source="pim")
    actors["StockChanged"].send_with_options(args=(doomed.to_dict(),), max_retries=1, min_backoff=100,
                                                max_backoff=200)
    tail.wait_for("StockRejected", lambda e: e.get("causationid") == doomed.id, timeout=30)
    sandbox.admin.clear_faults()

    actor = {"actor_name": "on_StockChanged", "queue_name": "etsyflow.stock"}
    text = eventually(lambda: (lambda t: t if value(t, "etsyflow_dead_letters_total") >= 1
                               and value(t, "etsyflow_etsy_quota_remaining") > 0 else "")(scrape(port)),
                      timeout=30, what="dead letter and quota in the metrics")
    assert value(text, "dramatiq_messages_total", **actor) == 3
    assert value(text, "dramatiq_message_errors_total", **actor) == 2
    assert value(text, "dramatiq_message_retries_total", **actor) == 1
    assert value(text, "dramatiq_message_rejects_total", **actor) == 1  # dead-lettered
    assert value(text, "dramatiq_message_duration_milliseconds_count", **actor) == 3
    assert value(text, "etsyflow_dead_letters_total", actor="on_StockChanged", queue="etsyflow.stock") == 1
    assert value(text, "etsyflow_etsy_requests_total", operation="getListingsByShop", status="200") >= 1
    assert value(text, "etsyflow_etsy_requests_total", operation="getListingsByShop", status="429") == 1
    assert value(text, "etsyflow_etsy_requests_total", status="500") >= 1
    assert value(text, "etsyflow_etsy_rate_limited_total", kind="second", source="etsy") == 1
    assert value(text, "etsyflow_etsy_token_refreshes_total", outcome="ok") == 1
    assert value(text, "etsyflow_events_published_total", type="StockRejected") == 2
    assert value(text, "etsyflow_events_rejected_total", type="StockRejected") == 2
    assert value(text, "etsyflow_etsy_request_seconds_count", operation="getListingsByShop") >= 2
    from etsyflow.etsy.ratelimit import RateLimiter

    remaining = RateLimiter().remaining_today()
    eventually(lambda: value(scrape(port), "etsyflow_etsy_quota_remaining") == remaining, timeout=10,
               what=f"the quota gauge at {remaining}")
    eventually(lambda: value(scrape(port), "etsyflow_queue_messages", queue="etsyflow.stock", state="dead") == 1,
               timeout=10, what="the dead letter in the queue gauge")


def test_bridge_serves_events_published_and_rejected(ops_shop, sandbox, tail, runtime):
    from etsyflow.config import get_settings
    from etsyflow.messages import publish
    from etsyflow.workers import metrics

    base = free_port()
    settings = get_settings().with_overrides(metrics_port=base - 1)  # the bridge serves on METRICS_PORT + 1
    assert metrics.serve("bridge", settings, addr="127.0.0.1") == base
    publish(CloudEvent.new("StockChanged", {"shop_id": "x"}, source="pim"))  # invalid: EventRejected
    tail.wait_for("EventRejected", timeout=15)
    text = eventually(lambda: (lambda t: t if value(t, "etsyflow_events_rejected_total", type="EventRejected")
                               else "")(scrape(base)), timeout=10, what="the rejection in the metrics")
    assert value(text, "etsyflow_events_published_total", type="EventRejected") >= 1
    assert "etsyflow_etsy_quota_remaining" in text and "etsyflow_queue_messages" in text
