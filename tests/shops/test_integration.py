"""Connecting shops end to end: real Redis, the sandbox over HTTP."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
import requests
from click.testing import CliRunner

from etsyflow.config.logging import configure_logging
from etsyflow.etsy.errors import AuthFailed
from etsyflow.shops import ConnectError, complete, connect, import_legacy, import_tokens, on_reconnect

# openapi-core (the sandbox's checker and ours) warns that it cannot check the oauth2 scheme.
pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:Unsupported scheme type")]


def secrets_of(*pairs) -> list[bytes]:
    """Each token, and the random part alone (what a leak would most likely show)."""
    out = []
    for token in pairs:
        out += [token.encode(), token.split(".", 1)[-1][:16].encode()]
    return out


def test_connect_and_complete_end_to_end(env):
    shop = env.admin.create_shop(shop_name="Connected")
    env.admin("PUT", "/oauth", shop_id=shop["shop_id"], decision="approve")
    store = env.store()
    link = connect(shop["shop_id"], store=store)
    answer = requests.get(link.url, allow_redirects=False, timeout=10)  # the seller approves
    assert answer.status_code == 302
    redirect = answer.headers["Location"]
    assert redirect.startswith(env.settings.etsy_redirect_uri)

    connected = complete(redirect, store=store)
    assert connected.shop_id == shop["shop_id"] and connected.shop_name == "Connected" and connected.usable
    assert env.client(shop["shop_id"]).get_shop()["shop_name"] == "Connected"
    tokens = store.load_tokens(shop["shop_id"])
    dump = env.dump()
    for secret in secrets_of(tokens.access_token, tokens.refresh_token):
        assert secret not in dump
    with pytest.raises(ConnectError, match="already used"):
        complete(redirect, store=store)


def test_seller_denies_access(env):
    shop = env.admin.create_shop()
    env.admin("PUT", "/oauth", shop_id=shop["shop_id"], decision="deny")
    link = connect(shop["shop_id"], store=env.store())
    redirect = requests.get(link.url, allow_redirects=False, timeout=10).headers["Location"]
    with pytest.raises(ConnectError, match="access_denied"):
        complete(redirect, store=env.store())
    env.admin("PUT", "/oauth", decision="approve")


def test_login_as_the_wrong_seller_is_refused(env):
    wanted = env.admin.create_shop()
    other = env.admin.create_shop()
    env.admin("PUT", "/oauth", shop_id=other["shop_id"], decision="approve")
    link = connect(wanted["shop_id"], store=env.store())
    redirect = requests.get(link.url, allow_redirects=False, timeout=10).headers["Location"]
    with pytest.raises(ConnectError, match=f"not to shop {wanted['shop_id']}"):
        complete(redirect, store=env.store())
    assert env.store().get(wanted["shop_id"]) is None


def test_import_then_refresh_on_expiry(env):
    shop = env.admin.create_shop()
    store = env.store()
    import_tokens(shop["shop_id"], shop["access_token"], shop["refresh_token"], store=store)
    client = env.client(shop["shop_id"])
    assert client.get_me()["shop_id"] == shop["shop_id"]
    env.admin("POST", "/tokens/expire", shop_id=shop["shop_id"])
    assert client.get_me()["shop_id"] == shop["shop_id"]  # 401 -> refresh -> retry
    assert env.admin.counters()["refreshes_by_shop"][str(shop["shop_id"])] == 1
    assert store.load_tokens(shop["shop_id"]).refresh_token != shop["refresh_token"]  # rotated and saved


def test_import_of_tokens_for_another_shop_is_refused(env):
    mine = env.admin.create_shop()
    other = env.admin.create_shop()
    with pytest.raises(ConnectError):
        import_tokens(mine["shop_id"], other["access_token"], other["refresh_token"], store=env.store())


def test_cli_import_legacy_never_prints_tokens(env):
    from etsyflow.cli import main

    shop = env.admin.create_shop(shop_name="Legacy")
    legacy = env.admin("POST", "/legacy-tokens", shop_id=shop["shop_id"])
    result = CliRunner().invoke(main, ["shop", "import-legacy", "--shop-id", str(shop["shop_id"])],
                                input=f"{legacy['oauth_token']}\n{legacy['oauth_token_secret']}\n")
    assert result.exit_code == 0, result.output
    assert "Legacy" in result.output
    listed = CliRunner().invoke(main, ["shop", "list", "--json"])
    rows = json.loads(listed.output)
    assert [r["token_status"] for r in rows if r["shop_id"] == shop["shop_id"]] == ["ok"]
    from etsyflow.shops import ShopStore

    tokens = ShopStore().load_tokens(shop["shop_id"])
    everything = (result.output + listed.output).encode()
    for secret in secrets_of(tokens.access_token, tokens.refresh_token, legacy["oauth_token"]):
        assert secret not in everything
    # The v1 token was used up by the exchange: a second import is refused clearly.
    again = CliRunner().invoke(main, ["shop", "import-legacy", "--shop-id", str(shop["shop_id"])],
                               env={"ETSY_LEGACY_OAUTH_TOKEN": legacy["oauth_token"],
                                    "ETSY_LEGACY_OAUTH_TOKEN_SECRET": legacy["oauth_token_secret"]})
    assert again.exit_code == 1 and "invalid_grant" in again.output


def test_revoked_tokens_one_event_fast_failure_then_reconnect(env):
    from etsyflow.messages.tail import EventTail

    shop = env.admin.create_shop()
    shop_id = shop["shop_id"]
    store = env.store()
    import_tokens(shop_id, shop["access_token"], shop["refresh_token"], store=store)
    env.admin("POST", f"/shops/{shop_id}/revoke-tokens")  # the seller changed the password
    errors = []

    with EventTail(["ShopAuthFailed"]) as tail:
        def call():
            try:
                env.client(shop_id).get_me()
            except AuthFailed as error:
                errors.append(error)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(errors) == 8
        events = tail.wait_for("ShopAuthFailed", count=1, timeout=10)
        with pytest.raises(TimeoutError):  # every caller has returned: a second event would be here
            tail.wait_for("ShopAuthFailed", count=2, timeout=1.5)
    assert events[0]["data"]["shop_id"] == shop_id
    assert "invalid_grant" in events[0]["data"]["reason"]
    assert env.admin.counters()["refresh_failures_by_shop"][str(shop_id)] == 1
    assert not store.is_usable(shop_id)

    calls_before = env.admin.counters()["calls_total"]
    started = time.monotonic()
    with pytest.raises(AuthFailed, match="reconnect"):
        env.client(shop_id).get_me()
    assert time.monotonic() - started < 0.2
    assert env.admin.counters()["calls_total"] == calls_before  # nothing sent

    fresh = env.admin("POST", f"/shops/{shop_id}/tokens")
    replayed = []
    on_reconnect.append(replayed.append)
    try:
        import_tokens(shop_id, fresh["access_token"], fresh["refresh_token"], store=store)
    finally:
        on_reconnect.remove(replayed.append)
    assert replayed == [shop_id] and store.is_usable(shop_id)
    assert env.client(shop_id).get_me()["shop_id"] == shop_id


def test_tokens_never_in_clear_text_in_logs_redis_or_events(env):
    from etsyflow.messages.tail import EventTail

    stream = io.StringIO()
    configure_logging("DEBUG", json=True, stream=stream)
    try:
        shop = env.admin.create_shop()
        shop_id = shop["shop_id"]
        store = env.store()
        env.admin("PUT", "/oauth", shop_id=shop_id, decision="approve")
        link = connect(shop_id, store=store)
        redirect = requests.get(link.url, allow_redirects=False, timeout=10).headers["Location"]
        complete(redirect, store=store)
        first = store.load_tokens(shop_id)
        env.admin("POST", "/tokens/expire", shop_id=shop_id)
        env.client(shop_id).get_me()
        second = store.load_tokens(shop_id)
        legacy_shop = env.admin.create_shop()
        legacy = env.admin("POST", "/legacy-tokens", shop_id=legacy_shop["shop_id"])
        import_legacy(legacy_shop["shop_id"], legacy["oauth_token"], legacy["oauth_token_secret"], store=store)
        third = store.load_tokens(legacy_shop["shop_id"])
        with EventTail() as tail:
            env.admin("POST", f"/shops/{shop_id}/revoke-tokens")
            env.admin("POST", "/tokens/expire", shop_id=shop_id)  # no-op after revocation; keeps it honest
            with pytest.raises(AuthFailed):
                env.client(shop_id).get_me()
            tail.wait_for("ShopAuthFailed", timeout=10)
            events = json.dumps(tail.events).encode()
    finally:
        configure_logging("INFO", json=True)
    logs = stream.getvalue().encode()
    assert b"etsy_token_refreshed" in logs and b"shop_auth_failed" in logs  # the flow was logged
    code = redirect.split("code=", 1)[1].split("&", 1)[0]
    everything = {"logs": logs, "redis": env.dump(), "events": events}
    for secret in secrets_of(shop["access_token"], shop["refresh_token"], first.access_token,
                             first.refresh_token, second.access_token, second.refresh_token,
                             third.access_token, third.refresh_token, legacy["oauth_token"],
                             legacy["oauth_token_secret"], env.settings.etsy_shared_secret) + [code.encode()]:
        for where, blob in everything.items():
            assert secret not in blob, f"a secret appears in {where}"


def test_short_lived_tokens_are_refreshed_once_per_lifetime(env):
    """Etsy chooses ``expires_in``: with 5-second tokens the margin is half a second, not
    60 s, so a shop calling Etsy steadily refreshes once per token, not on every call."""
    env.admin("PUT", "/config", access_token_ttl_seconds=5)  # every token the sandbox issues lives 5 s
    try:
        shop = env.admin.create_shop(access_token_ttl_seconds=5)
        store = env.store()
        import_tokens(shop["shop_id"], shop["access_token"], shop["refresh_token"], store=store)
        client = env.client(shop["shop_id"])
        before = int(env.admin.counters()["refreshes_by_shop"].get(str(shop["shop_id"]), 0))
        started, calls = time.monotonic(), 0
        while time.monotonic() - started < 12:
            assert client.get_me()["shop_id"] == shop["shop_id"]
            calls += 1
            time.sleep(0.05)
        refreshes = int(env.admin.counters()["refreshes_by_shop"][str(shop["shop_id"])]) - before
    finally:
        env.admin("PUT", "/config", access_token_ttl_seconds=3600)
    print(f"{calls} calls in 12 s with 5-second tokens: {refreshes} refreshes")
    assert 2 <= refreshes <= 3, f"{refreshes} refreshes for {calls} calls"
