"""The webhook receiver turns a genuine ORDER_PAID into an immediate poll of that shop."""

import json
import time

import pytest

from etsyflow.shops.store import ShopStore
from etsyflow.webhooks import PATH, create_app

from .test_webhook_verify import SECRET, headers

SHOP = 31000001


def notification(shop_id=SHOP, event_type="ORDER_PAID", **extra):
    body = {"event_type": event_type, "shop_id": shop_id,
            "resource_url": f"https://openapi.etsy.com/v3/application/shops/{shop_id}/receipts/3100000001", **extra}
    return json.dumps(body).encode()


@pytest.fixture
def client(embedded):
    ShopStore().save_tokens(SHOP, "51000001.access", "51000001.refresh", 3600, connected=True)
    published = []
    app = create_app(SECRET, publish_event=published.append)
    app.published = published
    return app.test_client(), published


def post(client, body, **kw):
    return client.post(PATH, data=body, headers=headers(body=body, **kw), content_type="application/json")


def test_genuine_order_paid_requests_a_poll_of_that_shop(client):
    http, published = client
    response = post(http, notification(), msg_id="msg_a")
    assert response.status_code == 200, response.json
    [tick] = published
    assert tick.type == "OrdersPollTick" and tick.data == {"shop_id": SHOP}
    assert response.json["tick_id"] == tick.id


def test_a_resent_notification_polls_once(client):
    http, published = client
    body = notification()
    assert post(http, body, msg_id="msg_b").status_code == 200
    again = post(http, body, msg_id="msg_b")
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert len(published) == 1


def test_shop_id_from_the_resource_url(client):
    http, published = client
    body = json.dumps({"event_type": "ORDER_PAID",
                       "resource_url": f"https://openapi.etsy.com/v3/application/shops/{SHOP}/receipts/1"}).encode()
    assert post(http, body, msg_id="msg_c").status_code == 200
    assert published[0].data["shop_id"] == SHOP


@pytest.mark.parametrize("kw, reason", [
    ({"secret": "whsec_" + "b3RoZXIta2V5LW90aGVyLWtleQ=="}, "does not match"),
    ({"ts": int(time.time()) - 600}, "old"),
])
def test_forged_or_old_notifications_get_401_and_no_poll(client, kw, reason):
    http, published = client
    response = post(http, notification(), **kw)
    assert response.status_code == 401
    assert reason in response.json["reason"]
    assert published == []


def test_unsigned_notification_gets_401(client):
    http, published = client
    response = http.post(PATH, data=notification(), content_type="application/json")
    assert response.status_code == 401 and "missing header" in response.json["reason"]
    assert published == []


def test_other_events_and_unknown_shops_are_acknowledged_not_acted_on(client):
    http, published = client
    assert post(http, notification(event_type="LISTING_UPDATED"), msg_id="m1").status_code == 202
    response = post(http, notification(shop_id=999), msg_id="m2")
    assert response.status_code == 202 and "not connected" in response.json["reason"]
    assert published == []


@pytest.mark.parametrize("body, reason", [(b"[1,2]", "JSON object"), (b"not json", "JSON object"),
                                          (b'{"event_type": "ORDER_PAID"}', "shop_id")])
def test_signed_but_unreadable_bodies_get_400(client, body, reason):
    http, published = client
    response = post(http, body, msg_id="m3")
    assert response.status_code == 400 and reason in response.json["reason"]


def test_oversized_body_gets_413(client):
    http, _ = client
    body = notification(padding="x" * 70000)
    assert post(http, body, msg_id="m4").status_code == 413


def test_bus_down_answers_503_and_etsy_retry_goes_through(embedded):
    ShopStore().save_tokens(SHOP, "51000001.access", "51000001.refresh", 3600, connected=True)
    calls = []

    def flaky(event):
        calls.append(event)
        if len(calls) == 1:
            raise ConnectionError("bus down")

    http = create_app(SECRET, publish_event=flaky).test_client()
    body = notification()
    assert post(http, body, msg_id="m5").status_code == 503
    assert post(http, body, msg_id="m5").status_code == 200  # Etsy's retry, same webhook-id
    assert len(calls) == 2 and calls[0].id == calls[1].id


def test_receiver_refuses_to_start_without_a_secret(embedded):
    with pytest.raises(ValueError, match="WEBHOOK_SIGNING_SECRET"):
        create_app()


def test_healthz(client):
    http, _ = client
    assert http.get("/healthz").status_code == 200
