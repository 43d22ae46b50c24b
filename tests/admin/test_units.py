"""The console's parts on their own (fakeredis): accounts, throttle, audit, recent events, samples,
charts, URL masking, per-shop quota, disconnect, and the ``etsyflow admin users`` commands."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import fakeredis
import pytest
from click.testing import CliRunner

from etsyflow.admin import audit, charts, recent, samples
from etsyflow.admin.context import is_loopback, without_password
from etsyflow.admin.throttle import SignInThrottle
from etsyflow.admin.users import USERS_KEY, AdminUsers, UserError


@pytest.fixture
def redis():
    return fakeredis.FakeRedis()


def test_passwords_are_stored_as_argon2id_hashes(redis):
    users = AdminUsers(redis)
    assert users.add("alice", "correct horse battery")
    assert not users.add("alice", "another password!!")  # no silent overwrite
    stored = redis.hget(USERS_KEY, "alice")
    assert b"correct horse" not in stored and json.loads(stored)["hash"].startswith("$argon2id$")
    assert users.verify("alice", "correct horse battery")
    assert not users.verify("alice", "correct horse batterY")
    assert not users.verify("nobody", "correct horse battery")
    assert users.add("alice", "a brand new password", replace=True) and users.verify("alice", "a brand new password")
    assert users.names() == ["alice"] and users.remove("alice") and users.names() == []
    for name, password in (("bad name", "long enough password"), ("", "long enough password"), ("ok", "short")):
        with pytest.raises(UserError):
            users.add(name, password)


def test_throttle_counts_per_user_and_per_address_in_a_window(redis):
    throttle = SignInThrottle(redis, per_user=2, per_address=3, window_seconds=60)
    assert throttle.blocked_for("alice", "10.0.0.1") == 0
    throttle.failed("alice", "10.0.0.1")
    throttle.failed("Alice", "10.0.0.2")  # names compare without case
    assert 0 < throttle.blocked_for("alice", "10.0.0.9") <= 60
    assert throttle.blocked_for("bob", "10.0.0.9") == 0
    throttle.failed("bob", "10.0.0.9")
    throttle.failed("carol", "10.0.0.9")
    throttle.failed("dave", "10.0.0.9")
    assert throttle.blocked_for("erin", "10.0.0.9") > 0 and throttle.blocked_for("erin", "10.0.0.8") == 0
    throttle.succeeded("bob")
    assert throttle.blocked_for("bob", "10.0.0.7") == 0


def test_audit_is_bounded_newest_first_and_scrubbed(redis, monkeypatch):
    monkeypatch.setattr(audit, "KEEP", 3)
    for i in range(5):
        audit.record(redis, "alice", f"action {i}", "Bearer 1234.abcdefghijklmnopqrstuvwxyz" if i == 4 else "")
    entries = audit.recent(redis)
    assert [e["action"] for e in entries] == ["action 4", "action 3", "action 2"]
    assert "abcdefghijklmnop" not in entries[0]["detail"] and entries[0]["who"] == "alice"


def test_recent_events_are_bounded_counted_once_and_filterable(redis, monkeypatch):
    monkeypatch.setattr(recent, "KEEP", 4)
    now = 1_800_000_000.0
    events = [{"id": f"e{i}", "type": "OrderShipped" if i % 2 else "ListingReady", "source": "wms",
               "time": "t", "data": {"shop_id": 7 if i < 3 else 8, "access_token": "never kept"}} for i in range(6)]
    events.append({"id": "n1", "type": "ShipmentRejected", "source": "etsyflow", "data": {
        "shop_id": 7, "reason": "x" * 500}})
    for event in events:
        assert recent.record(redis, event, now=now)
    assert not recent.record(redis, events[0], now=now)  # a second console sees it too: counted once
    kept = recent.latest(redis)
    assert [e["id"] for e in kept] == ["n1", "e5", "e4", "e3"]
    assert "never kept" not in json.dumps(kept) and len(kept[0]["reason"]) == recent.REASON_CHARS
    assert [e["id"] for e in recent.latest(redis, event_type="OrderShipped")] == ["e5", "e3"]
    assert [e["id"] for e in recent.latest(redis, shop_id="7")] == ["n1"]
    assert [e["id"] for e in recent.latest(redis, after="e4")] == ["n1", "e5"]
    minutes = recent.per_minute(redis, 3, now=now)
    assert minutes[-1] == (now // 60 * 60, 6, 1) and minutes[0][1:] == (0, 0)


def test_queue_samples_keep_one_hour(redis, monkeypatch, configure, embedded):
    now = 1_800_000_000.0
    for minutes_ago in (90, 61, 30, 0):
        assert samples.record_once(redis, embedded, now=now - minutes_ago * 60)
    assert not samples.record_once(redis, embedded, now=now + 1)  # this bucket is taken
    kept = samples.last_hour(redis, now=now)
    assert [round((now - s["t"]) / 60) for s in kept] == [30, 0]
    assert set(kept[0]["depth"]) >= {"etsyflow.listings", "etsyflow.orders"}


def test_charts_are_well_formed_svg_that_say_what_they_show():
    start = 1_800_000_000.0
    svg = charts.line_chart({"in": [(start, 1), (start + 60, 7)], "out <&>": [(start + 30, 3)]}, start=start,
                            end=start + 3600, title="Events per minute", unit="events/min")
    root = ET.fromstring(str(svg))
    assert root.get("role") == "img" and "latest: in 7, out <&> 3 events/min" in root.get("aria-label")
    assert "style" not in str(svg)  # the Content-Security-Policy forbids inline styles
    gauge = ET.fromstring(str(charts.quota_gauge(2500, 10000)))
    assert "2500 of 10000 (25%)" in gauge.get("aria-label")
    ET.fromstring(str(charts.line_chart({}, start=start, end=start + 60, title="Queue depth", unit="messages")))
    assert charts._nice(7) == 10 and charts._nice(11) == 20 and charts._nice(0.5) == 1


def test_urls_lose_their_passwords_and_loopback_is_recognised():
    assert without_password("redis://:s3cret@redis.internal:6380/0") == "redis://:***@redis.internal:6380/0"
    assert without_password("amqp://etsy:pa55@[::1]:5672/v") == "amqp://etsy:***@[::1]:5672/v"
    assert without_password("redis://localhost:6379/0") == "redis://localhost:6379/0"
    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "192.168.1.2", "")] == \
        [True, True, True, False, False, False]


def test_quota_use_is_told_per_shop(embedded):
    from etsyflow.etsy.ratelimit import RateLimiter
    from etsyflow.state import get_redis

    limiter = RateLimiter(get_redis(), embedded)
    for shop in (11, 11, 12, None):
        limiter.release(limiter.acquire(shop_id=shop))
    assert limiter.used_today_by_shop() == {11: 2, 12: 1, 0: 1} and limiter.used_today() == 4


def test_disconnect_erases_tokens_and_keeps_the_shop_listed(embedded):
    from etsyflow.shops import ShopStore
    from etsyflow.state import get_redis

    store = ShopStore(get_redis(), embedded)
    store.save_tokens(41, "41.accessaccessaccessaccess", "41.refreshrefreshrefresh", 3600, connected=True,
                      shop_name="Kept")
    store.set_setting(41, "send_bcc", True)
    shop = store.disconnect(41)
    assert shop.token_status == "disconnected" and not shop.usable and shop.settings["send_bcc"] is True
    assert store.load_tokens(41) is None and not store.is_usable(41)
    assert [s.shop_id for s in store.list_shops()] == [41]
    raw = get_redis().hgetall(store.shop_key(41))
    assert b"access_token" not in raw and b"refresh_token" not in raw


def test_users_commands_take_the_password_from_stdin_never_as_an_argument(configure, redis_url):
    from etsyflow.cli import main

    configure(REDIS_URL=redis_url)
    runner = CliRunner()
    added = runner.invoke(main, ["admin", "users", "add", "alice"], input="correct horse battery\n")
    assert added.exit_code == 0 and "administrator alice added" in added.output
    assert "correct horse" not in added.output
    again = runner.invoke(main, ["admin", "users", "add", "alice"], input="correct horse battery\n")
    assert again.exit_code == 1 and "exists" in again.output
    short = runner.invoke(main, ["admin", "users", "add", "bob"], input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    as_argument = runner.invoke(main, ["admin", "users", "add", "bob", "--password", "correct horse battery"])
    assert as_argument.exit_code == 2
    listed = runner.invoke(main, ["admin", "users", "list"])
    assert listed.exit_code == 0 and listed.output.startswith("alice  (since ")
    removed = runner.invoke(main, ["admin", "users", "remove", "alice"])
    assert removed.exit_code == 0 and runner.invoke(main, ["admin", "users", "remove", "alice"]).exit_code == 1
    from etsyflow.state import get_redis

    assert [e["action"] for e in audit.recent(get_redis())] == ["administrator removed", "administrator added"]


def test_the_console_refuses_to_start_without_redis_or_secret_key(configure):
    from etsyflow.cli import main

    configure()
    answer = CliRunner().invoke(main, ["admin", "--port", "1"])
    assert answer.exit_code == 1 and "set REDIS_URL" in answer.output
