"""The console with RabbitMQ as the Dramatiq broker: queues (in flight unknown to AMQP), a dead letter
replayed from the console, the broker URL shown without its password."""

from __future__ import annotations

import os

import pytest

from etsyflow.messages import CloudEvent
from tests.conftest import AMQP_URL, amqp_reachable, connect_shop, require_service

from tests.waiting import wait_for

from .conftest import csrf_of, running_console, wait_out_settle

pytestmark = [pytest.mark.integration, pytest.mark.rabbitmq,
              pytest.mark.filterwarnings("ignore:Unsupported scheme type")]

QUEUE = "etsyflow.fulfilment"


@pytest.fixture
def rabbit_console(configure, redis_url, sandbox):
    require_service(amqp_reachable(), "RabbitMQ", expected=bool(os.environ.get("ETSYFLOW_TEST_RABBITMQ")))
    with running_console(configure, redis_url, sandbox, BROKER_URL=AMQP_URL, EVENTS_URL=redis_url) as console:
        yield console


def test_dead_letter_replayed_from_the_console_on_rabbitmq(rabbit_console, sandbox, tail):
    from etsyflow.workers.broker import build_broker
    from etsyflow.runtime import Runtime

    console = rabbit_console
    shop_id = connect_shop(sandbox)
    broker = build_broker()
    with Runtime(broker=broker, bridge=False, worker_threads=2) as runtime:
        broker.flush(QUEUE)  # leftovers of earlier runs on this RabbitMQ
        try:
            receipt_id = int(sandbox.admin.create_receipt(shop_id, country_iso="GB")["receipt_id"])
            sandbox.admin.add_fault(operation="*", kind="status", status=500)
            event = CloudEvent.new("OrderShipped", {"shop_id": shop_id, "receipt_id": receipt_id,
                                                    "carrier": "Royal Mail", "tracking_number": "JC243137885GB",
                                                    "shipped_at": "2026-11-29T16:05:00Z"}, source="wms")
            runtime.actors["OrderShipped"].send_with_options(args=(event.to_dict(),), max_retries=0)
            tail.wait_for("ShipmentRejected", lambda e: e.get("causationid") == event.id, timeout=30)
            http = console.session()

            def listed():
                text = http.get(console.url + "/operations", timeout=20).text
                return text if "on_OrderShipped" in text else None

            page = wait_for(listed, timeout=20, what="the dead letter on the operations page")
            assert "<td>n/a" in page  # AMQP does not say how many are unacknowledged
            message_id = next(line.split('value="')[1].split('"')[0] for line in page.splitlines()
                              if 'name="message_id"' in line)
            sandbox.admin.clear_faults()
            wait_out_settle(shop_id, receipt_id, "JC243137885GB")
            done = http.post(console.url + "/operations/dead/replay",
                             data={"csrf_token": csrf_of(page), "message_id": message_id}, timeout=20)
            assert "1 message(s) replayed." in done.text
            tail.wait_for("ShipmentConfirmed", lambda e: e.get("causationid") == event.id, timeout=20)
            assert len(sandbox.admin.receipt(receipt_id)["receipt"]["shipments"]) == 1
            settings_page = http.get(console.url + "/settings", timeout=10).text
            assert "Work queues (BROKER_URL)</dt><dd>amqp://guest:***@127.0.0.1:5672/" in settings_page
            assert "guest:guest@" not in settings_page
        finally:
            broker.flush(QUEUE)
