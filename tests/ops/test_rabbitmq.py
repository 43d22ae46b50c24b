"""Dead letters and status with RabbitMQ as the Dramatiq broker (where RabbitMQ is reachable)."""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import AMQP_URL, amqp_reachable, connect_shop, require_service

from .conftest import cli, cli_json, eventually, shipped_event

pytestmark = [pytest.mark.integration, pytest.mark.rabbitmq]

QUEUE = "etsyflow.fulfilment"


@pytest.fixture
def rabbit_shop(configure, redis_url, sandbox):
    require_service(amqp_reachable(), "RabbitMQ", expected=bool(os.environ.get("ETSYFLOW_TEST_RABBITMQ")))
    configure(REDIS_URL=redis_url, BROKER_URL=AMQP_URL, EVENTS_URL=redis_url, ETSY_TIMEOUT_SECONDS="2",
              SHIPMENT_SETTLE_SECONDS="1", **sandbox.env())
    return connect_shop(sandbox)


def test_dead_letter_listed_and_replayed_on_rabbitmq(rabbit_shop, sandbox, tail):
    from etsyflow.workers.broker import build_broker
    from etsyflow.runtime import Runtime

    broker = build_broker()
    with Runtime(broker=broker, bridge=False, worker_threads=2) as runtime:
        broker.flush(QUEUE)  # leftovers of earlier runs on this shared RabbitMQ
        receipt_id = int(sandbox.admin.create_receipt(rabbit_shop, country_iso="GB")["receipt_id"])
        sandbox.admin.add_fault(operation="*", kind="status", status=500)
        event = shipped_event(rabbit_shop, receipt_id)
        runtime.actors["OrderShipped"].send_with_options(args=(event.to_dict(),), max_retries=0)
        [notice] = tail.wait_for("ShipmentRejected", lambda e: e.get("causationid") == event.id, timeout=30)
        assert notice["data"]["reason"].startswith("gave up after 1 attempt: ")

        [letter] = eventually(lambda: cli_json("dlq", "list", "--queue", QUEUE), what="the dead letter")
        assert letter["event_id"] == event.id and letter["actor"] == "on_OrderShipped"
        assert letter["shop_id"] == rabbit_shop and "500" in letter["last_error"]
        assert letter["dead_at"] is not None
        # listing leaves the message where it is
        assert cli_json("dlq", "show", letter["message_id"])["envelope"]["id"] == event.id
        status = {q["queue"]: q for q in cli_json("status")["queues"]}
        assert status[QUEUE]["dead"] == 1 and status[QUEUE]["in_flight"] is None
        assert "n/a" in cli("status")

        sandbox.admin.clear_faults()
        # The failed call was the write (a new parcel is written first): its outcome is unknown,
        # so etsyflow gives Etsy the settle time (1 s here) before writing again; replay after it.
        from etsyflow.fulfilment.ledger import ParcelLedger, parcel_ref

        ledger = ParcelLedger()
        record = ledger.get(ledger.record_key(rabbit_shop, receipt_id, parcel_ref("JC243137885GB", None)))
        eventually(lambda: time.time() > (record.attempt_ended_at or 0) + 1.0, what="the settle time")
        assert "1 message(s) replayed" in cli("dlq", "replay", letter["message_id"])
        tail.wait_for("ShipmentConfirmed", lambda e: e.get("causationid") == event.id, timeout=20)
        assert cli_json("dlq", "list", "--queue", QUEUE) == []
        assert len(sandbox.admin.receipt(receipt_id)["receipt"]["shipments"]) == 1
        broker.flush(QUEUE)
