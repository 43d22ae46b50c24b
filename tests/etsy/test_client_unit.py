"""EtsyClient against a scripted Etsy: bodies, headers, and the error table in the call."""

from __future__ import annotations

import time

import fakeredis
import pytest

from etsyflow.config import Settings
from etsyflow.etsy import EtsyClient
from etsyflow.etsy.errors import AuthFailed, PermanentError, RateLimited, ShopNotConnected, TransientError
from etsyflow.shops import ShopStore, shop_client

from .scripted import scripted_session

SHOP = 777
SETTINGS = Settings(etsy_api_url="https://api.etsy.test", etsy_keystring="kst", etsy_shared_secret="sss",
                    secret_key="unit-test-secret-key-0123456789", etsy_timeout_seconds=3.5,
                    etsy_rate_per_second=50)
ACCESS = "4242.accessAAAAAAAAAAAAAAAAAAAAAAAA"
REFRESH = "4242.refreshRRRRRRRRRRRRRRRRRRRRRRR"


@pytest.fixture
def etsy():
    redis = fakeredis.FakeRedis()
    store = ShopStore(redis, SETTINGS)
    store.save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    session, adapter = scripted_session()
    client = shop_client(SHOP, SETTINGS, redis, session, max_retry_seconds=10)
    client.transport.backoff_seconds = 0.01
    return client, adapter, store


def test_every_call_carries_the_app_key_bearer_and_a_timeout(etsy):
    client, adapter, _ = etsy
    adapter.then(200, {"user_id": 4242, "shop_id": SHOP})
    assert client.get_me() == {"user_id": 4242, "shop_id": SHOP}
    sent = adapter.sent[0]
    assert sent.headers["x-api-key"] == "kst:sss"
    assert sent.headers["Authorization"] == f"Bearer {ACCESS}"
    assert sent.timeout == 3.5
    assert sent.url == "https://api.etsy.test/v3/application/users/me"


def test_create_draft_listing_is_form_encoded(etsy):
    client, adapter, _ = etsy
    adapter.then(201, {"listing_id": 1})
    client.create_draft_listing(quantity=2, title="Mug", description="A mug", price="24.99", who_made="i_did",
                                when_made="made_to_order", taxonomy_id=1, tags=["a", "b"], is_supply=False,
                                image_ids=[], shipping_profile_id=None)
    sent = adapter.sent[0]
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = sent.form()
    assert form["tags"] == ["a", "b"]
    assert form["is_supply"] == ["false"]
    assert form["price"] == ["24.99"]
    assert "image_ids" not in form and "shipping_profile_id" not in form


def test_missing_required_fields_cost_no_call(etsy):
    client, adapter, _ = etsy
    with pytest.raises(PermanentError, match="missing required field"):
        client.create_draft_listing(title="Mug")
    assert adapter.sent == []


def test_inventory_and_tracking_are_json(etsy):
    client, adapter, _ = etsy
    adapter.then(200, {"products": []}).then(200, {"receipt_id": 9})
    client.update_listing_inventory(5, {"products": [{"product_id": 3, "sku": "X", "property_values": [],
                                                      "offerings": [{"offering_id": 4, "price": "9.50",
                                                                     "quantity": 1, "is_enabled": True,
                                                                     "readiness_state_id": 2}]}]})
    client.create_receipt_shipment(9, tracking_code="1Z", carrier_name="ups", send_bcc=False)
    inv, tracking = adapter.sent
    assert inv.method == "PUT" and inv.headers["Content-Type"] == "application/json"
    assert inv.json() == {"products": [{"sku": "X", "property_values": [], "offerings": [
        {"price": 9.5, "quantity": 1, "is_enabled": True, "readiness_state_id": 2}]}]}
    assert tracking.path == f"/v3/application/shops/{SHOP}/receipts/9/tracking"
    assert tracking.json() == {"tracking_code": "1Z", "carrier_name": "ups", "send_bcc": False}


def test_images_are_multipart_with_field_image(etsy):
    client, adapter, _ = etsy
    adapter.then(201, {"listing_image_id": 3})
    client.upload_listing_image(5, b"\x89PNG...", filename="a.png", rank=2, alt_text="front")
    sent = adapter.sent[0]
    assert sent.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="image"; filename="a.png"' in sent.body
    assert b'name="rank"\r\n\r\n2' in sent.body and b'name="alt_text"\r\n\r\nfront' in sent.body


def test_query_filters_are_encoded_like_etsy_expects(etsy):
    client, adapter, _ = etsy
    adapter.then(200, {"count": 0, "results": []})
    client.get_shop_receipts(min_last_modified=1700000000, was_paid=True, was_canceled=None, sort_on="updated")
    q = adapter.sent[0].query
    assert q == {"min_last_modified": ["1700000000"], "was_paid": ["true"], "sort_on": ["updated"],
                 "limit": ["100"], "offset": ["0"]}


def test_pagination_reads_every_page(etsy):
    client, adapter, _ = etsy
    for offset in (0, 100, 200):
        size = 100 if offset < 200 else 30
        adapter.then(200, {"count": 230, "results": [{"receipt_id": offset + i} for i in range(size)]})
    ids = [r["receipt_id"] for r in client.iter_shop_receipts(min_last_modified=1700000000)]
    assert ids == list(range(230))
    assert [s.query["offset"] for s in adapter.sent] == [["0"], ["100"], ["200"]]


def test_server_errors_are_retried_then_succeed(etsy):
    client, adapter, _ = etsy
    adapter.then(500, {"error": "oops"}).then(503, "<title>Service Unavailable</title>").then(200, {"shop_id": SHOP})
    assert client.get_shop() == {"shop_id": SHOP}
    assert len(adapter.sent) == 3


def test_retries_are_bounded_then_transient_error(etsy):
    client, adapter, _ = etsy
    adapter.always("/shops/777", 502, "<title>502 Bad Gateway</title>")
    with pytest.raises(TransientError, match="502 Bad Gateway") as caught:
        client.get_shop()
    assert len(adapter.sent) == client.transport.max_attempts
    assert caught.value.status == 502 and caught.value.operation == "getShop"


def test_timeouts_and_resets_are_retried(etsy):
    import requests

    client, adapter, _ = etsy
    adapter.then(raises=requests.exceptions.ReadTimeout("slow")).then(
        raises=requests.exceptions.ConnectionError(ConnectionResetError(104, "reset"))).then(200, {"ok": 1})
    assert client.get_shop() == {"ok": 1}


def test_a_per_second_429_is_waited_out_in_the_call(etsy):
    client, adapter, _ = etsy
    adapter.then(429, {"error": "Exceeded per second rate limit"}, {"retry-after": "1"}).then(200, {"ok": 1})
    started = time.monotonic()
    assert client.get_shop() == {"ok": 1}
    assert 0.8 <= time.monotonic() - started <= 2.5


def test_a_daily_429_parks_at_once_and_stops_further_calls(etsy):
    client, adapter, _ = etsy
    adapter.then(429, {"error": "Exceeded daily rate limit"}, {"retry-after": "86400"})
    with pytest.raises(RateLimited) as caught:
        client.get_shop()
    assert caught.value.daily and caught.value.retry_after_seconds == 86400
    with pytest.raises(RateLimited):
        client.get_me()
    assert len(adapter.sent) == 1  # the second call never left


def test_401_refreshes_once_saves_the_new_pair_and_retries(etsy):
    client, adapter, store = etsy
    adapter.then(401, {"error": "invalid_token", "error_description": "expired"}, path="/shops/777")
    adapter.then(200, {"access_token": "4242.newAccessBBBBBBBBBBBBBBBBBBBB", "token_type": "Bearer",
                       "expires_in": 3600, "refresh_token": "4242.newRefreshCCCCCCCCCCCCCCCC"}, path="/oauth/token")
    adapter.then(200, {"shop_id": SHOP}, path="/shops/777")
    assert client.get_shop() == {"shop_id": SHOP}
    token_call = adapter.calls("/oauth/token")[0]
    assert token_call.form() == {"grant_type": ["refresh_token"], "client_id": ["kst"], "refresh_token": [REFRESH]}
    assert adapter.sent[-1].headers["Authorization"] == "Bearer 4242.newAccessBBBBBBBBBBBBBBBBBBBB"
    saved = store.load_tokens(SHOP)
    assert saved.refresh_token == "4242.newRefreshCCCCCCCCCCCCCCCC" and saved.version == 2


def test_a_second_401_after_refresh_is_permanent(etsy):
    client, adapter, _ = etsy
    adapter.always("/shops/777", 401, {"error": "invalid_token"})
    adapter.always("/oauth/token", 200, {"access_token": "4242.xAAAAAAAAAAAAAAAAAAAAAAAAA", "expires_in": 3600,
                                         "refresh_token": "4242.yAAAAAAAAAAAAAAAAAAAAAAAA"})
    with pytest.raises(PermanentError, match="freshly refreshed"):
        client.get_shop()
    assert len(adapter.calls("/oauth/token")) == 1


def test_revoked_refresh_token_fails_the_shop_and_then_fails_fast(etsy):
    client, adapter, store = etsy
    adapter.then(401, {"error": "invalid_token"}, path="/shops/777")
    adapter.always("/oauth/token", 400, {"error": "invalid_grant", "error_description": "token revoked"})
    with pytest.raises(AuthFailed, match="token revoked"):
        client.get_shop()
    assert store.get(SHOP).token_status == "auth_failed"
    calls = len(adapter.sent)
    started = time.monotonic()
    with pytest.raises(AuthFailed):
        client.get_shop()
    assert time.monotonic() - started < 0.1 and len(adapter.sent) == calls


def test_token_endpoint_500_is_retried(etsy):
    client, adapter, store = etsy
    adapter.then(401, {"error": "invalid_token"}, path="/shops/777")
    adapter.then(500, {"error": "server_error"}, path="/oauth/token")
    adapter.then(200, {"access_token": "4242.zAAAAAAAAAAAAAAAAAAAAAAAAA", "expires_in": 3600,
                       "refresh_token": "4242.wAAAAAAAAAAAAAAAAAAAAAAAA"}, path="/oauth/token")
    adapter.then(200, {"shop_id": SHOP}, path="/shops/777")
    assert client.get_shop() == {"shop_id": SHOP}
    assert store.get(SHOP).token_status == "ok"


def test_token_near_expiry_is_refreshed_before_the_call(etsy):
    client, adapter, store = etsy
    store.save_tokens(SHOP, ACCESS, REFRESH, 3600)
    # 59.5 minutes later: 30 s of the hour left, under the 60 s margin
    now = time.time()
    store.redis.hset(store.shop_key(SHOP), mapping={"refreshed_at": repr(now - 3570), "expires_at": repr(now + 30)})
    adapter.then(200, {"access_token": "4242.pAAAAAAAAAAAAAAAAAAAAAAAAA", "expires_in": 3600,
                       "refresh_token": "4242.qAAAAAAAAAAAAAAAAAAAAAAAA"}, path="/oauth/token")
    adapter.then(200, {"user_id": 4242}, path="/users/me")
    client.get_me()
    assert [s.path for s in adapter.sent] == ["/v3/public/oauth/token", "/v3/application/users/me"]


def test_readiness_state_409_returns_the_existing_id(etsy):
    client, adapter, _ = etsy
    adapter.then(409, {"error": "exists"}, {"Content-Location":
                                            f"/v3/application/shops/{SHOP}/readiness-state-definitions/55"})
    rid = client.create_shop_readiness_state_definition(readiness_state="ready_to_ship", min_processing_time=1,
                                                        max_processing_time=3)
    assert rid == 55
    adapter.then(201, {"readiness_state_id": 56})
    assert client.create_shop_readiness_state_definition(readiness_state="made_to_order", min_processing_time=1,
                                                         max_processing_time=3) == 56


def test_validation_errors_come_back_readable(etsy):
    client, adapter, _ = etsy
    adapter.then(400, [{"path": "/title", "type": "string", "message": "too long"}])
    with pytest.raises(PermanentError) as caught:
        client.update_listing(5, title="x" * 200)
    assert caught.value.reason == "title: too long (string)"


def test_not_connected_shop_fails_without_calling(etsy):
    _, adapter, store = etsy
    client = shop_client(999, SETTINGS, store.redis, adapter_session(adapter))
    with pytest.raises(ShopNotConnected, match="shop 999 is not connected"):  # rejected, not parked
        client.get_shop()
    assert adapter.sent == []


def adapter_session(adapter):
    import requests

    session = requests.Session()
    session.mount("https://", adapter)
    return session


def test_without_the_shared_secret_nothing_is_sent(etsy):
    _, adapter, store = etsy
    settings = SETTINGS.with_overrides(etsy_shared_secret=None)
    client = shop_client(SHOP, settings, store.redis, adapter_session(adapter), store=ShopStore(store.redis, settings))
    with pytest.raises(PermanentError, match="ETSY_SHARED_SECRET is not set"):
        client.get_me()
    assert adapter.sent == []
