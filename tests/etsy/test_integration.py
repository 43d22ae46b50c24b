"""The client over real Redis and the sandbox over HTTP: refresh, faults, shared rate limit."""

from __future__ import annotations

import threading
import time

import pytest

from etsyflow.etsy.errors import PermanentError, RateLimited
from etsyflow.shops import import_tokens

# openapi-core (the sandbox's checker and ours) warns that it cannot check the oauth2 scheme.
pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:Unsupported scheme type")]


@pytest.fixture
def shop(env):
    created = env.admin.create_shop()
    import_tokens(created["shop_id"], created["access_token"], created["refresh_token"], store=env.store())
    env.admin("POST", "/counters/reset")
    return created


def run_threads(count: int, target) -> list:
    results, lock = [], threading.Lock()

    def run():
        try:
            value = target()
        except Exception as error:  # collected and asserted on below
            value = error
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.parametrize("expired_where", ["at_etsy", "in_our_store"])
def test_sixteen_callers_with_an_expired_token_cost_one_refresh(env, shop, expired_where):
    shop_id = shop["shop_id"]
    store = env.store()
    if expired_where == "at_etsy":
        env.admin("POST", "/tokens/expire", shop_id=shop_id)  # Etsy answers 401 invalid_token
    else:
        tokens = store.load_tokens(shop_id)
        store.save_tokens(shop_id, tokens.access_token, tokens.refresh_token, expires_in=-5)
    results = run_threads(16, lambda: env.client(shop_id).get_me())
    assert [r["shop_id"] if isinstance(r, dict) else r for r in results] == [shop_id] * 16
    counters = env.admin.counters()
    assert counters["refreshes_by_shop"] == {str(shop_id): 1}
    assert counters["refresh_failures_by_shop"] == {}


def test_transient_errors_are_retried_in_the_call(env, shop):
    env.admin("POST", "/faults", operation="getMe", status=503, times=2)
    env.admin("POST", "/faults", operation="getShopReceipts", kind="drop", times=1)
    client = env.client(shop["shop_id"])
    client.transport.backoff_seconds = 0.05
    assert client.get_me()["shop_id"] == shop["shop_id"]
    assert client.get_shop_receipts()["count"] == 0
    assert env.admin.counters()["calls_by_operation"]["getMe"] == 3


def test_token_endpoint_500_is_retried_during_refresh(env, shop):
    env.admin("POST", "/faults", operation="oauthToken", status=500, times=1)
    env.admin("POST", "/tokens/expire", shop_id=shop["shop_id"])
    client = env.client(shop["shop_id"])
    client.transport.backoff_seconds = 0.05
    assert client.get_me()["shop_id"] == shop["shop_id"]
    assert env.store().is_usable(shop["shop_id"])


def test_an_injected_per_second_429_is_waited_out(env, shop):
    env.admin("POST", "/faults", operation="getMe", status=429, times=1,
              body={"error": "Exceeded per second rate limit"}, headers={"retry-after": "1"})
    started = time.monotonic()
    assert env.client(shop["shop_id"]).get_me()["shop_id"] == shop["shop_id"]
    assert 0.9 <= time.monotonic() - started < 5


def test_a_daily_429_parks_every_worker_without_calling_again(env, shop):
    env.admin("POST", "/faults", operation="getMe", status=429, times=1,
              body={"error": "Exceeded daily rate limit"}, headers={"retry-after": "86400"})
    with pytest.raises(RateLimited) as caught:
        env.client(shop["shop_id"]).get_me()
    assert caught.value.daily and caught.value.retry_after_seconds == 86400
    calls = env.admin.counters()["calls_total"]
    with pytest.raises(RateLimited) as again:
        env.client(shop["shop_id"]).get_shop_receipts()  # another worker, another operation
    assert again.value.daily
    assert env.admin.counters()["calls_total"] == calls
    assert env.client(shop["shop_id"]).limiter.remaining_today() == 0


def test_etsy_validation_errors_are_permanent_with_a_reason(env, shop):
    client = env.client(shop["shop_id"])
    with pytest.raises(PermanentError) as caught:
        client.get_listing(999999999)
    assert caught.value.status == 404 and caught.value.reason


def test_etsys_headers_are_recorded_for_the_daily_budget(env, shop):
    env.admin("PUT", "/rate-limits", per_day=500, reset=True)
    client = env.client(shop["shop_id"])
    client.get_me()
    assert client.limiter.effective_limits()[1] == 500
    assert client.limiter.remaining_today() <= 499


@pytest.mark.parametrize("window, processes, threads", [("sliding", 2, 4), ("fixed", 1, 6)])
def test_workers_share_the_per_second_limit(env, shop, window, processes, threads):
    from bench.ratelimit import hammer

    per_second, duration = 20, 4.0
    env.admin("PUT", "/rate-limits", per_second=per_second, per_day=10_000_000, window=window, reset=True)
    worker_env = {**env.sandbox.env(), "REDIS_URL": env.redis_url, "SECRET_KEY": env.settings.secret_key,
                  "ETSY_RATE_PER_SECOND": str(per_second), "ETSY_RATE_PER_DAY": "10000000",
                  "ETSY_TIMEOUT_SECONDS": "5"}
    env.admin("POST", "/counters/reset")
    result = hammer(worker_env, prefix=env.prefix, shop_id=shop["shop_id"], processes=processes,
                    threads=threads, duration=duration)
    counters = env.admin.counters()
    assert counters["rate_limited_429"] == 0, counters
    assert counters["peak_per_second"] <= per_second
    assert result["errors"] == 0 and result["rate_limited"] == 0
    assert result["per_second"] >= 0.9 * per_second, result
