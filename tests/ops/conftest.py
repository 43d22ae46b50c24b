"""Ops tests: real Redis (``ETSYFLOW_TEST_REDIS_DB``, flushed around each test), the sandbox over
HTTP and a connected shop (``redis_shop``), the in-process runtime and an event tail."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from etsyflow.messages import CloudEvent
from tests.waiting import wait_for


def cli(*args, input=None) -> str:
    """Run ``etsyflow ARGS…`` in this process (current settings); returns its output, fails on error."""
    from etsyflow.cli import main

    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, f"etsyflow {' '.join(args)} exited {result.exit_code}: {result.output}"
    return result.stdout  # (log lines of the worker threads go to stderr)


def cli_json(*args):
    return json.loads(cli(*args, "--json"))


def shipped_event(shop_id: int, receipt_id: int, tracking: str = "JC243137885GB") -> CloudEvent:
    return CloudEvent.new("OrderShipped", {"shop_id": shop_id, "receipt_id": receipt_id, "carrier": "Royal Mail",
                                           "tracking_number": tracking, "shipped_at": "2026-11-29T16:05:00Z"},
                          source="wms")


def eventually(check, timeout=15.0, what="condition"):
    return wait_for(check, timeout, what)


@pytest.fixture
def ops_shop(configure, redis_url, sandbox) -> int:
    """Real Redis + sandbox (Etsy calls time out after 2 s) + one connected shop; returns its id."""
    from tests.conftest import connect_shop

    configure(REDIS_URL=redis_url, ETSY_TIMEOUT_SECONDS="2", SHIPMENT_SETTLE_SECONDS="1", **sandbox.env())
    return connect_shop(sandbox)
