"""Security of the console over HTTP (requests against waitress, real Redis, the sandbox):
sign-in required, CSRF, sign-in throttling, idle timeout, cookies, and no secret in any answer."""

from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import TEST_SECRET_KEY

from tests.waiting import wait_for

from .conftest import ADMIN, PASSWORD, csrf_of

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:Unsupported scheme type")]

PAGES = ["/shops", "/operations", "/settings", "/audit", "/operations/events.json"]


def test_every_page_needs_sign_in(console):
    http = requests.Session()
    for path in ["/shops", "/operations", "/settings", "/audit", "/operations/dead/abc", "/shops/1/disconnect"]:
        answer = http.get(console.url + path, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/signin?next="), path
    assert http.get(console.url + "/operations/events.json", timeout=10).status_code == 401
    # A POST with a valid CSRF token but no signed-in user is sent to sign in too, and does nothing.
    token = csrf_of(http.get(console.url + "/signin", timeout=10).text)
    answer = http.post(console.url + "/shops/connect", data={"csrf_token": token, "shop_id": "5"},
                       allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/signin")
    assert requests.get(console.url + "/healthz", timeout=10).json() == {"status": "ok"}


def test_sign_in_lands_on_the_page_asked_for_and_never_off_site(console):
    http = requests.Session()
    token = csrf_of(http.get(console.url + "/signin?next=/settings", timeout=10).text)
    answer = http.post(console.url + "/signin", data={"username": ADMIN, "password": PASSWORD, "csrf_token": token,
                                                      "next": "/settings"}, allow_redirects=False, timeout=10)
    assert answer.headers["Location"] == "/settings"
    other = requests.Session()
    token = csrf_of(other.get(console.url + "/signin", timeout=10).text)
    answer = other.post(console.url + "/signin", data={"username": ADMIN, "password": PASSWORD, "csrf_token": token,
                                                       "next": "//evil.example/"}, allow_redirects=False, timeout=10)
    assert answer.headers["Location"] == "/shops"


def test_forms_without_the_right_csrf_token_are_refused(console, sandbox):
    from tests.conftest import connect_shop

    shop_id = connect_shop(sandbox)
    http = console.session()
    page = http.get(console.url + "/shops", timeout=10).text
    good = csrf_of(page)
    for token in (None, "", "forged", csrf_of(console.session().get(console.url + "/shops", timeout=10).text)):
        data = {"update_shipping_templates": "on"} | ({"csrf_token": token} if token is not None else {})
        answer = http.post(console.url + f"/shops/{shop_id}/settings", data=data, allow_redirects=False, timeout=10)
        assert answer.status_code == 400 and "CSRF check failed" in answer.text
        assert console.store().get(shop_id).settings["update_shipping_templates"] is False
    signout = http.post(console.url + "/signout", data={}, allow_redirects=False, timeout=10)
    assert signout.status_code == 400  # not even sign-out goes through without the token
    answer = http.post(console.url + f"/shops/{shop_id}/settings",
                       data={"csrf_token": good, "update_shipping_templates": "on"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert console.store().get(shop_id).settings["update_shipping_templates"] is True
    # The token is also checked at sign-in (no login CSRF).
    anonymous = requests.Session()
    anonymous.get(console.url + "/signin", timeout=10)
    answer = anonymous.post(console.url + "/signin", data={"username": ADMIN, "password": PASSWORD},
                            allow_redirects=False, timeout=10)
    assert answer.status_code == 400


def _try(http, url, user, password):
    token = csrf_of(http.get(url + "/signin", timeout=10).text)
    return http.post(url + "/signin", data={"username": user, "password": password, "csrf_token": token},
                     allow_redirects=False, timeout=10)


def test_wrong_passwords_are_limited_per_user(console):
    from etsyflow.admin.throttle import PER_USER

    http = requests.Session()
    for _ in range(PER_USER):
        answer = _try(http, console.url, ADMIN, "wrong password!!")
        assert answer.status_code == 401 and "Wrong user name or password" in answer.text
    refused = _try(http, console.url, ADMIN, PASSWORD)  # even the right password, for now
    assert refused.status_code == 429 and "Too many failed sign-in attempts" in refused.text
    from etsyflow.admin.audit import recent

    audit = [e["action"] for e in recent(console.redis)]
    assert audit.count("sign-in failed") == PER_USER and "sign-in refused" in audit
    # Another administrator is not locked out by attempts on alice's name.
    from etsyflow.admin.users import AdminUsers

    AdminUsers(console.redis).add("bob", "another long password")
    assert _try(requests.Session(), console.url, "bob", "another long password").status_code == 303


def test_wrong_passwords_are_limited_per_address(console):
    from etsyflow.admin.throttle import PER_ADDRESS

    http = requests.Session()
    for i in range(PER_ADDRESS):
        assert _try(http, console.url, f"guess{i}", "wrong password!!").status_code == 401
    assert _try(http, console.url, ADMIN, PASSWORD).status_code == 429


def test_an_idle_session_ends(configure, redis_url, sandbox):
    """The idle timeout, with a console made with a 1 s timeout (Flask's test client)."""
    from etsyflow.admin import create_app
    from etsyflow.admin.users import AdminUsers
    from etsyflow.state import get_redis

    settings = configure(REDIS_URL=redis_url, **sandbox.env())
    redis = get_redis()
    AdminUsers(redis).add(ADMIN, PASSWORD)
    app = create_app(settings, redis=redis, idle_seconds=1)
    client = app.test_client()
    token = csrf_of(client.get("/signin").get_data(as_text=True))
    assert client.post("/signin", data={"username": ADMIN, "password": PASSWORD, "csrf_token": token}).status_code == 303
    assert client.get("/shops").status_code == 200
    # The live tail polls in the background: that is not activity, it does not keep the session alive.
    wait_for(lambda: client.get("/operations/events.json").status_code == 401, timeout=5,
               what="the idle session to expire while the tail polls")
    assert not redis.keys("etsyflow:admin:session:*")
    answer = client.get("/shops")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/signin")
    assert "Your session ended" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_sign_out_and_user_removal_end_the_session_for_good(console):
    http = console.session()
    cookie = http.cookies.get("etsyflow_admin")
    token = csrf_of(http.get(console.url + "/shops", timeout=10).text)
    assert http.post(console.url + "/signout", data={"csrf_token": token}, allow_redirects=False,
                     timeout=10).status_code == 303
    replayed = requests.get(console.url + "/shops", cookies={"etsyflow_admin": cookie}, allow_redirects=False,
                            timeout=10)
    assert replayed.status_code == 302  # the old cookie is worth nothing
    from etsyflow.admin.users import AdminUsers

    http = console.session()
    AdminUsers(console.redis).remove(ADMIN)
    assert http.get(console.url + "/shops", allow_redirects=False, timeout=10).status_code == 302


def test_cookie_flags(configure, redis_url):
    from etsyflow.admin import create_app
    from etsyflow.state import get_redis

    settings = configure(REDIS_URL=redis_url)
    for host, secure in (("127.0.0.1", False), ("localhost", False), ("::1", False), ("0.0.0.0", True),
                         ("10.1.2.3", True)):
        client = create_app(settings, redis=get_redis(), host=host).test_client()
        cookie = client.get("/signin").headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
        assert ("; Secure" in cookie) is secure, (host, cookie)
    proxied = create_app(settings, redis=get_redis(), host="127.0.0.1", behind_tls_proxy=True).test_client()
    assert "; Secure" in proxied.get("/signin").headers["Set-Cookie"]


def _secrets(*tokens) -> list[str]:
    out = [TEST_SECRET_KEY]
    for token in tokens:
        out += [token, token.split(".", 1)[-1][:12]]
    return out


def test_no_token_or_secret_in_any_answer(console, sandbox):
    """Tokens entered by hand, tokens from the callback, SECRET_KEY and the shared secret: on no page."""
    http = console.session()
    seen = []

    def fetch(method, path, **kwargs):
        answer = http.request(method, console.url + path, timeout=20, **kwargs)
        seen.append((path, answer.status_code, answer.text, dict(answer.headers)))
        return answer

    # Tokens entered by hand (good ones, and a pair Etsy refuses).
    made = sandbox.admin.create_shop(shop_name="Manual")
    token = csrf_of(fetch("GET", "/shops").text)
    fetch("POST", "/shops/import", data={"csrf_token": token, "shop_id": made["shop_id"],
                                         "access_token": made["access_token"], "refresh_token": made["refresh_token"]})
    wrong = sandbox.admin.create_shop(shop_name="Other")
    fetch("POST", "/shops/import", data={"csrf_token": token, "shop_id": made["shop_id"],
                                         "access_token": wrong["access_token"], "refresh_token": wrong["refresh_token"]})
    legacy = sandbox.admin.legacy_token(made["shop_id"])
    legacy_values = [v for k, v in legacy.items() if "token" in k and isinstance(v, str)]
    fetch("POST", "/shops/import-legacy", data={"csrf_token": token, "shop_id": made["shop_id"],
                                                "oauth_token": legacy_values[0],
                                                "oauth_token_secret": legacy_values[-1]})
    # A connection through the callback.
    sandbox.admin.oauth(shop_id=wrong["shop_id"], decision="approve")
    answer = fetch("POST", "/shops/connect", data={"csrf_token": token, "shop_id": wrong["shop_id"]},
                   allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"].startswith(sandbox.authorize_url)
    back = requests.get(answer.headers["Location"], allow_redirects=False, timeout=10).headers["Location"]
    assert back.startswith(console.url + "/etsy/callback?")
    result = fetch("GET", back[len(console.url):])
    assert "is connected" in result.text
    for path in PAGES + ["/signin", f"/shops/{made['shop_id']}/disconnect", "/operations?type=x&shop=1"]:
        assert fetch("GET", path).status_code == 200, path

    stored = [console.store().load_tokens(s) for s in (made["shop_id"], wrong["shop_id"])]
    values = _secrets(made["access_token"], made["refresh_token"], wrong["access_token"], wrong["refresh_token"],
                      *[t.access_token for t in stored], *[t.refresh_token for t in stored], *legacy_values)
    values += [console.settings.etsy_shared_secret, console.settings.secret_key]
    for path, status, body, headers in seen:
        assert status < 500, (path, status, body[:300])
        everything = body + repr(headers)
        for value in values:
            assert value not in everything, (path, value[:6])
    # The audit log says what was done, without the secrets (checked above), and never masks them partially.
    from etsyflow.admin.audit import recent

    actions = [e["action"] for e in recent(console.redis)]
    for action in ("tokens imported", "token import failed", "legacy tokens exchanged", "connect started",
                   "shop connected"):
        assert action in actions, (action, actions)
    audit = http.get(console.url + "/audit", timeout=10).text
    assert not re.search(r"\*\*\*\*|•••", audit)
    settings_page = http.get(console.url + "/settings", timeout=10).text
    assert "Shared secret (ETSY_SHARED_SECRET)</dt><dd>set" in settings_page
    assert "SECRET_KEY</dt><dd>set" in settings_page


def test_behind_a_trusted_proxy_limits_count_the_clients_address(console):
    """With --trusted-proxy the forwarded address counts; without, a forged header is ignored."""
    from etsyflow.admin.server import ConsoleServer
    from etsyflow.admin.throttle import PER_ADDRESS

    proxied = ConsoleServer(console.app, "127.0.0.1", 0, trusted_proxy="127.0.0.1").start()
    try:
        def attempt(url, address, user, password):
            http = requests.Session()
            http.headers["X-Forwarded-For"] = address
            return _try(http, url, user, password).status_code

        for i in range(PER_ADDRESS):
            assert attempt(proxied.url, "203.0.113.7", f"guess{i}", "wrong password!!") == 401
        assert attempt(proxied.url, "203.0.113.7", ADMIN, PASSWORD) == 429
        assert attempt(proxied.url, "203.0.113.8", ADMIN, PASSWORD) == 303  # another client is not locked out
        # The console itself (no trusted proxy) ignores the header: the forger's own address counts.
        for i in range(PER_ADDRESS):
            assert attempt(console.url, f"198.51.100.{i}", f"other{i}", "wrong password!!") == 401
        assert attempt(console.url, "198.51.100.250", ADMIN, PASSWORD) == 429
    finally:
        proxied.stop()
