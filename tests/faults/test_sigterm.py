"""Every process stops promptly on SIGTERM, also while Redis (state, broker, bus) is away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import TEST_SECRET_KEY

from .conftest import ROOT, free_port

pytestmark = pytest.mark.integration

#: The longest a process may take to exit after SIGTERM (seconds), in any state.
STOP_SECONDS = 20
#: How long each process runs against the live Redis before the outage (seconds).
WARM_SECONDS = 3
#: How long the outage lasts before SIGTERM (seconds): long enough to be inside reconnection loops.
OUTAGE_SECONDS = 4


@pytest.mark.parametrize("command", [
    ["bridge"],
    ["scheduler"],
    ["worker", "--processes", "1", "--threads", "2"],
    ["webhooks", "--port", "0"],
])
def test_sigterm_during_a_redis_outage_stops_the_process(command, private_redis, tmp_path):
    env = dict(os.environ, REDIS_URL=private_redis.url, SECRET_KEY=TEST_SECRET_KEY, LOG_LEVEL="INFO",
               ETSY_KEYSTRING="k" * 24, ETSY_SHARED_SECRET="s" * 10, WEBHOOK_SIGNING_SECRET="w" * 32,
               POLL_INTERVAL_SECONDS="1", PYTHONPATH=str(ROOT))
    if command[0] == "webhooks":
        command = ["webhooks", "--port", str(free_port())]
    log = tmp_path / f"{command[0]}.log"
    proc = subprocess.Popen([sys.executable, "-m", "etsyflow.cli", *command], env=env, cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(WARM_SECONDS)  # running state: connected, consuming / polling / serving
        assert proc.poll() is None, log.read_text()[-3000:]
        private_redis.crash()
        time.sleep(OUTAGE_SECONDS)  # now inside its reconnection / retry loops
        assert proc.poll() is None, log.read_text()[-3000:]
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGTERM) if command[0] != "worker" else proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`etsyflow {command[0]}` still running {STOP_SECONDS} s after SIGTERM during an outage:\n"
                        + log.read_text(errors="replace")[-3000:])
        print(f"etsyflow {command[0]}: exited {time.monotonic() - sent:.1f} s after SIGTERM (code {proc.returncode})")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
