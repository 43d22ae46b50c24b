"""``etsyflow sandbox`` serves until stopped and prints where it listens."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import requests


def test_cli_serves_and_creates_a_shop(tmp_path):
    log = open(tmp_path / "stderr.txt", "w+")
    process = subprocess.Popen(
        [sys.executable, "-c", "from etsyflow.cli import main; main()", "sandbox", "--port", "0", "--rate-per-second", "7", "--create-shop"],
        stdout=subprocess.PIPE, stderr=log, text=True, env={**os.environ, "ETSY_KEYSTRING": "clikey",
                                                            "ETSY_SHARED_SECRET": "clisecret"})
    try:
        shop_line = process.stdout.readline()  # the JSON line of --create-shop (bounded by the test timeout below)
        deadline = time.monotonic() + 20
        url = None
        while time.monotonic() < deadline and url is None:
            log.seek(0)
            match = re.search(r"Etsy sandbox on (http://\S+)", log.read())
            url = match.group(1) if match else None
            time.sleep(0.05)
        assert url, "the sandbox never said where it listens"
        assert '"shop_id"' in shop_line
        health = requests.get(url + "/_sandbox/health", timeout=5).json()
        assert health["ok"] and health["strict"]
        import json

        shop = json.loads(shop_line)
        me = requests.get(url + "/v3/application/users/me", timeout=5,
                          headers={"x-api-key": "clikey:clisecret", "Authorization": f"Bearer {shop['access_token']}"})
        assert me.status_code == 200 and me.headers["x-limit-per-second"] == "7"
    finally:
        process.terminate()
        process.wait(10)
        log.close()
