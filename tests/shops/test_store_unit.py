"""Shop store, encryption at rest, PKCE state, settings, auth failure (embedded Redis)."""

from __future__ import annotations

import hashlib
import base64
import threading
import time
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner

from etsyflow.config import Settings
from etsyflow.etsy.errors import AuthFailed
from etsyflow.shops import (ConnectError, shop_client, SecretKeyMissing, ShopStore, complete, connect, import_legacy,
                            import_tokens, on_reconnect)
from etsyflow.shops import oauth as shops_oauth
from etsyflow.state import get_redis
from tests.etsy.scripted import scripted_session

SHOP = 31337
ACCESS = "5150.accessAAAAAAAAAAAAAAAAAAAAAAAAAAA"
REFRESH = "5150.refreshRRRRRRRRRRRRRRRRRRRRRRRRR"
APP = dict(ETSY_KEYSTRING="appkeystring", ETSY_SHARED_SECRET="appsharedsecret",
           ETSY_REDIRECT_URI="https://ops.example.com/etsy/callback", ETSY_API_URL="https://api.etsy.test")


@pytest.fixture
def app(embedded, configure):
    settings = configure(**APP)
    return settings


def dump_everything(redis) -> bytes:
    """Every key and value in Redis, as bytes (what an attacker with a dump sees)."""
    out = []
    for key in redis.scan_iter("*"):
        kind = redis.type(key)
        out.append(key)
        if kind == b"string":
            out.append(redis.get(key))
        elif kind == b"hash":
            for k, v in redis.hgetall(key).items():
                out += [k, v]
        elif kind == b"set":
            out += list(redis.smembers(key))
        elif kind == b"zset":
            out += [m for m, _ in redis.zrange(key, 0, -1, withscores=True)]
        elif kind == b"list":
            out += redis.lrange(key, 0, -1)
    return b"\n".join(out)


def etsy_answers(adapter, *, user_id=5150, shop_id=SHOP):
    adapter.always("/users/me", 200, {"user_id": user_id, "shop_id": shop_id})
    adapter.always(f"/shops/{SHOP}", 200, {"shop_id": SHOP, "shop_name": "TestShop", "user_id": user_id})


def test_tokens_are_encrypted_at_rest(app):
    store = ShopStore()
    store.save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    dump = dump_everything(get_redis())
    for secret in (ACCESS, REFRESH, ACCESS.split(".")[1][:12], REFRESH.split(".")[1][:12]):
        assert secret.encode() not in dump
    record = store.load_tokens(SHOP)
    assert (record.access_token, record.refresh_token) == (ACCESS, REFRESH)
    assert ACCESS not in repr(record) and ACCESS not in repr(store.get(SHOP))


def test_a_ciphertext_moved_to_another_shop_does_not_decrypt(app):
    store = ShopStore()
    store.save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    store.save_tokens(SHOP + 1, "x.y" * 10, "z.w" * 10, 3600, connected=True)
    redis = get_redis()
    redis.hset(store.shop_key(SHOP + 1), "access_token", redis.hget(store.shop_key(SHOP), "access_token"))
    with pytest.raises(Exception, match="cannot be decrypted"):
        store.load_tokens(SHOP + 1)


def test_no_secret_key_no_storage(embedded, configure):
    settings = Settings(etsy_keystring="k", etsy_redirect_uri="https://x.example/cb")  # no SECRET_KEY
    store = ShopStore(get_redis(), settings)
    with pytest.raises(SecretKeyMissing, match="SECRET_KEY is not set"):
        store.save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    with pytest.raises(ConnectError, match="SECRET_KEY"):
        connect(SHOP, store=store)
    assert list(get_redis().scan_iter("*")) == []


def test_a_changed_secret_key_means_reconnect_not_garbage(app):
    store = ShopStore()
    store.save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    other = ShopStore(get_redis(), app.with_overrides(secret_key="another-secret-key-0000000000"))
    session, adapter = scripted_session()
    with pytest.raises(AuthFailed, match="SECRET_KEY"):
        shop_client(SHOP, other.settings, get_redis(), session, store=other).get_shop()
    assert adapter.sent == []


def test_connect_builds_etsys_pkce_login_url(app):
    link = connect(SHOP)
    url = urlparse(link.url)
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://www.etsy.com/oauth/connect"
    assert q["response_type"] == "code" and q["client_id"] == "appkeystring"  # keystring alone
    assert q["redirect_uri"] == APP["ETSY_REDIRECT_URI"]
    assert q["scope"].split() == ["listings_r", "listings_w", "listings_d", "shops_r", "shops_w",
                                  "transactions_r", "transactions_w", "email_r"]
    assert q["code_challenge_method"] == "S256" and len(q["state"]) >= 24
    # The verifier is stored encrypted for 10 minutes under a hash of the state.
    redis = get_redis()
    key = ShopStore().pending_key(hashlib.sha256(q["state"].encode()).hexdigest())
    assert 590 <= redis.ttl(key) <= 600
    assert q["state"].encode() not in dump_everything(redis)


def test_complete_exchanges_the_code_checks_the_shop_and_stores(app):
    link = connect(SHOP)
    q = {k: v[0] for k, v in parse_qs(urlparse(link.url).query).items()}
    session, adapter = scripted_session()
    adapter.always("/oauth/token", 200, {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600,
                                         "token_type": "Bearer"})
    etsy_answers(adapter)
    reconnected = []
    on_reconnect.append(reconnected.append)
    try:
        shop = complete(f"{APP['ETSY_REDIRECT_URI']}?code=thecode&state={q['state']}", session=session)
    finally:
        on_reconnect.remove(reconnected.append)
    form = adapter.calls("/oauth/token")[0].form()
    verifier = form["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == q["code_challenge"]
    assert form["grant_type"] == ["authorization_code"] and form["client_id"] == ["appkeystring"]
    assert form["redirect_uri"] == [APP["ETSY_REDIRECT_URI"]] and form["code"] == ["thecode"]
    assert shop.shop_id == SHOP and shop.shop_name == "TestShop" and shop.usable
    assert 3500 < shop.expires_at - time.time() <= 3600
    assert reconnected == [SHOP]
    assert ShopStore().list_shops()[0].shop_id == SHOP
    # Single use: the same redirect again is refused without calling Etsy.
    calls = len(adapter.sent)
    with pytest.raises(ConnectError, match="already used"):
        complete(f"{APP['ETSY_REDIRECT_URI']}?code=thecode&state={q['state']}", session=session)
    assert len(adapter.sent) == calls


def test_pending_login_expires(app, monkeypatch):
    monkeypatch.setattr(shops_oauth, "PENDING_TTL_SECONDS", 1)
    link = connect(SHOP)
    state = parse_qs(urlparse(link.url).query)["state"][0]
    key = ShopStore().pending_key(hashlib.sha256(state.encode()).hexdigest())
    deadline = time.monotonic() + 5
    while get_redis().exists(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(ConnectError, match="expired"):
        complete(f"{APP['ETSY_REDIRECT_URI']}?code=c&state={state}")


@pytest.mark.parametrize("url, message", [
    ("https://ops.example.com/etsy/callback?error=access_denied&error_description=User+denied", "access_denied"),
    ("https://ops.example.com/etsy/callback", "no code and state"),
    ("not a url at all", "no code and state"),
    ("https://ops.example.com/etsy/callback?code=c&state=forged", "unknown"),
])
def test_bad_redirects_are_refused_clearly(app, url, message):
    with pytest.raises(ConnectError, match=message):
        complete(url)


def test_tokens_of_another_shop_are_refused(app):
    link = connect(SHOP)
    state = parse_qs(urlparse(link.url).query)["state"][0]
    session, adapter = scripted_session()
    adapter.always("/oauth/token", 200, {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600})
    etsy_answers(adapter, shop_id=999)
    with pytest.raises(ConnectError, match="not to shop 31337"):
        complete(f"{APP['ETSY_REDIRECT_URI']}?code=c&state={state}", session=session)
    assert ShopStore().get(SHOP) is None


def test_import_verifies_then_stores(app):
    session, adapter = scripted_session()
    etsy_answers(adapter)
    shop = import_tokens(SHOP, ACCESS, REFRESH, session=session)
    assert shop.usable
    assert adapter.sent[0].headers["Authorization"] == f"Bearer {ACCESS}"
    assert ShopStore().load_tokens(SHOP).refresh_token == REFRESH


def test_import_refreshes_an_expired_access_token(app):
    session, adapter = scripted_session()
    adapter.then(401, {"error": "invalid_token"}, path="/users/me")
    adapter.always("/oauth/token", 200, {"access_token": "5150.freshAAAAAAAAAAAAAAAAAAAA", "expires_in": 3600,
                                         "refresh_token": "5150.rotatedRRRRRRRRRRRRRRRRR"})
    etsy_answers(adapter)
    import_tokens(SHOP, ACCESS, REFRESH, session=session)
    assert ShopStore().load_tokens(SHOP).refresh_token == "5150.rotatedRRRRRRRRRRRRRRRRR"


def test_import_with_dead_tokens_is_refused(app):
    session, adapter = scripted_session()
    adapter.always("/users/me", 401, {"error": "invalid_token"})
    adapter.always("/oauth/token", 400, {"error": "invalid_grant", "error_description": "revoked"})
    with pytest.raises(ConnectError, match="rejected"):
        import_tokens(SHOP, ACCESS, REFRESH, session=session)
    assert ShopStore().get(SHOP) is None


def test_import_legacy_uses_token_exchange(app):
    session, adapter = scripted_session()
    adapter.always("/oauth/token", 200, {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600})
    etsy_answers(adapter)
    import_legacy(SHOP, "v1tokenvalue", "v1secretvalue", session=session)
    form = adapter.calls("/oauth/token")[0].form()
    assert form == {"grant_type": ["token_exchange"], "client_id": ["appkeystring"], "legacy_token": ["v1tokenvalue"]}
    assert b"v1secretvalue" not in dump_everything(get_redis())


def test_settings_default_off_and_change(app):
    store = ShopStore()
    store.save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    assert store.get(SHOP).settings == {"update_shipping_templates": False, "send_bcc": False}
    assert store.set_setting(SHOP, "send_bcc", True).send_bcc is True
    with pytest.raises(ValueError, match="unknown shop setting"):
        store.set_setting(SHOP, "colour", True)
    store.mark_polled(SHOP, at=1700000000.0)
    assert store.get(SHOP).last_poll_at == 1700000000.0
    assert store.is_usable(SHOP) and not store.is_usable(SHOP + 5)


def test_revoked_refresh_publishes_one_event_for_many_callers(app, tail):
    store = ShopStore()
    store.save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    session, adapter = scripted_session()
    adapter.always(f"/shops/{SHOP}", 401, {"error": "invalid_token"})
    adapter.always("/oauth/token", 400, {"error": "invalid_grant", "error_description": "refresh token revoked"})
    errors = []

    def call():
        try:
            shop_client(SHOP, store.settings, get_redis(), session).get_shop()
        except AuthFailed as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(errors) == 8
    failed = tail.wait_for("ShopAuthFailed", count=1, timeout=10)
    # Every caller has returned, so every publish has happened: a second event would arrive now.
    with pytest.raises(TimeoutError):
        tail.wait_for("ShopAuthFailed", count=2, timeout=1)
    assert failed[0]["data"] == {"shop_id": SHOP, "reason": "invalid_grant: refresh token revoked"}
    assert len(adapter.calls("/oauth/token")) == 1
    assert not store.is_usable(SHOP)


def test_cli_refuses_without_app_keys(embedded):
    from etsyflow.cli import main

    result = CliRunner().invoke(main, ["shop", "connect", "--shop-id", "12"])
    assert result.exit_code == 1
    assert "ETSY_KEYSTRING" in result.output and "ETSY_REDIRECT_URI" in result.output
    result = CliRunner().invoke(main, ["shop", "connect", "--shop-id", "abc"])
    assert result.exit_code == 2 and "positive whole number" in result.output


def test_cli_settings_and_list(app):
    from etsyflow.cli import main

    ShopStore().save_tokens(SHOP, ACCESS, REFRESH, 3600, connected=True)
    runner = CliRunner()
    result = runner.invoke(main, ["shop", "settings", "--shop-id", str(SHOP), "--send-bcc", "on"])
    assert result.exit_code == 0, result.output
    assert "send-bcc: on" in result.output and "update-shipping-templates: off" in result.output
    result = runner.invoke(main, ["shop", "list"])
    assert str(SHOP) in result.output and ACCESS not in result.output
    import json

    listed = json.loads(runner.invoke(main, ["shop", "list", "--json"]).output)
    assert listed[0]["shop_id"] == SHOP and listed[0]["settings"]["send_bcc"] is True
    assert ACCESS not in json.dumps(listed) and REFRESH not in json.dumps(listed)
    result = runner.invoke(main, ["shop", "settings", "--shop-id", "4"])
    assert result.exit_code == 1 and "not connected" in result.output
