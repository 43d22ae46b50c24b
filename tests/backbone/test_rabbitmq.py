"""The same flow with RabbitMQ as Dramatiq broker and as event bus (where RabbitMQ is reachable)."""

import json
import os
import uuid

import pytest

from tests.conftest import AMQP_URL, amqp_reachable, connect_shop, require_service

pytestmark = [pytest.mark.integration, pytest.mark.rabbitmq]


@pytest.fixture
def rabbit(configure, redis_url, sandbox):
    require_service(amqp_reachable(), "RabbitMQ", expected=bool(os.environ.get("ETSYFLOW_TEST_RABBITMQ")))
    configure(REDIS_URL=redis_url, BROKER_URL=AMQP_URL, EVENTS_URL=AMQP_URL, **sandbox.env())
    return connect_shop(sandbox)


def test_outside_system_publishes_plain_json_over_amqp(rabbit):
    from kombu import Connection, Exchange

    from etsyflow.messages.tail import EventTail
    from etsyflow.runtime import Runtime

    shop_id = rabbit
    event_id = f"wms-{uuid.uuid4()}"
    with EventTail() as tail, Runtime(worker_threads=2):
        body = json.dumps({"specversion": "1.0", "type": "StockChanged", "source": "wms", "id": event_id,
                           "time": "2026-11-29T12:00:00Z", "datacontenttype": "application/json",
                           "data": {"shop_id": shop_id, "sku": "NOPE-1", "quantity": 2}})
        with Connection("py" + AMQP_URL) as conn:
            exchange = Exchange("etsyflow.events", type="topic", durable=True)
            conn.Producer().publish(body, exchange=exchange, declare=[exchange], routing_key="StockChanged",
                                    content_type="application/json")
        [answer] = tail.wait_for("StockRejected", lambda e: e["causationid"] == event_id, timeout=20)
    assert answer["data"]["sku"] == "NOPE-1"
