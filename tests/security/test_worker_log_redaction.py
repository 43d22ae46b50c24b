"""Every log line of a real worker process is redacted (issue 12, item 7).

The Dramatiq CLI installs its own log handler in each worker process; its
"Failed to process message … with unhandled exception" line prints the whole
message, arguments included. A secret planted in an event must not appear in
anything the process writes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLANTED = "5150.PLANTEDsecretQx7Zr2Lm9Vb4Nc8Kd"


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_worker_process_log_lines_are_redacted(configure, redis_url, tmp_path):
    from etsyflow.workers.broker import build_broker
    from etsyflow.shops import ShopStore
    from etsyflow.workers import setup

    etsy = f"http://127.0.0.1:{_closed_port()}"  # every Etsy call fails: the actor raises
    env = {"REDIS_URL": redis_url, "SECRET_KEY": TEST_SECRET_KEY, "ETSY_API_URL": etsy,
           "ETSY_KEYSTRING": "k", "ETSY_SHARED_SECRET": "s", "ETSY_TIMEOUT_SECONDS": "0.5", "LOG_LEVEL": "INFO"}
    configure(**env)
    ShopStore().save_tokens(77, "77.storedaccessAAAAAAAAAAAAAAAA", "77.storedrefreshBBBBBBBBBBBBBBB", 3600,
                            connected=True)
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "etsyflow.cli", "worker", "--processes", "1",
                                 "--threads", "1"], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT), **env}, start_new_session=True)
    try:
        broker = build_broker()
        actors = setup(broker)
        actors["StockChanged"].send({
            "specversion": "1.0", "type": "StockChanged", "source": "pim", "id": "planted-1",
            "time": "2026-11-29T12:00:00Z",
            "data": {"shop_id": 77, "sku": "S-1", "quantity": 2, "access_token": PLANTED,
                     "note": f"Authorization: Bearer {PLANTED}"}})
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            text = log_path.read_text(errors="replace")
            if "Failed to process message" in text:
                break
            assert proc.poll() is None, text[-3000:]
            time.sleep(0.5)
        else:
            pytest.fail("the worker never logged the failure: " + log_path.read_text(errors="replace")[-3000:])
        broker.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    text = log_path.read_text(errors="replace")
    assert "[redacted]" in text
    for secret in (PLANTED, PLANTED.split(".")[1], "storedaccess", "storedrefresh", TEST_SECRET_KEY):
        assert secret not in text, f"{secret!r} leaked in the worker's output"
