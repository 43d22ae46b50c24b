"""OAuth as Etsy runs it: code + PKCE, rotating refresh tokens, token exchange, revocation."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import requests

from .conftest import TIMEOUT, Etsy

REDIRECT = "http://127.0.0.1:9/callback"


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(sandbox, challenge, **overrides):
    params = {"response_type": "code", "client_id": sandbox.keystring, "redirect_uri": REDIRECT,
              "scope": "shops_r listings_w transactions_r", "state": "st-123", "code_challenge": challenge,
              "code_challenge_method": "S256", **overrides}
    return requests.get(sandbox.authorize_url, params=params, allow_redirects=False, timeout=TIMEOUT)


def token(sandbox, **form):
    return requests.post(sandbox.url + "/v3/public/oauth/token", data=form, timeout=TIMEOUT)


def code_from(reply):
    assert reply.status_code == 302, reply.text
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert query["state"] == ["st-123"]
    return query["code"][0]


def test_authorization_code_with_pkce(sandbox, shop):
    sandbox.admin.oauth(shop_id=shop["shop_id"], decision="approve")
    verifier, challenge = pkce()
    code = code_from(authorize(sandbox, challenge))
    reply = token(sandbox, grant_type="authorization_code", client_id=sandbox.keystring,
                  redirect_uri=REDIRECT, code=code, code_verifier=verifier)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith(f"{shop['user_id']}.")
    assert body["refresh_token"].startswith(f"{shop['user_id']}.")
    me = Etsy(sandbox, body["access_token"]).get("/users/me")
    assert me.json() == {"user_id": shop["user_id"], "shop_id": shop["shop_id"]}
    # The code is single use.
    again = token(sandbox, grant_type="authorization_code", client_id=sandbox.keystring,
                  redirect_uri=REDIRECT, code=code, code_verifier=verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_verifier_and_redirect_are_refused(sandbox, shop):
    verifier, challenge = pkce()
    code = code_from(authorize(sandbox, challenge))
    wrong = token(sandbox, grant_type="authorization_code", client_id=sandbox.keystring,
                  redirect_uri=REDIRECT, code=code, code_verifier=pkce()[0])
    assert wrong.status_code == 400 and "code_verifier" in wrong.json()["error_description"]
    code = code_from(authorize(sandbox, challenge))
    moved = token(sandbox, grant_type="authorization_code", client_id=sandbox.keystring,
                  redirect_uri=REDIRECT + "/elsewhere", code=code, code_verifier=verifier)
    assert moved.status_code == 400 and "redirect_uri" in moved.json()["error_description"]


def test_authorize_page_validates_its_parameters(sandbox, shop):
    _, challenge = pkce()
    assert authorize(sandbox, challenge, code_challenge_method="plain").status_code == 400
    assert authorize(sandbox, challenge, response_type="token").status_code == 400
    assert authorize(sandbox, challenge, client_id="nobody").status_code == 400
    assert authorize(sandbox, challenge, scope="shops_r launch_missiles").json()["error"] == "invalid_scope"
    missing = authorize(sandbox, challenge, state="")
    assert missing.status_code == 400 and "state" in missing.json()["error_description"]


def test_denied_authorization_redirects_with_access_denied(sandbox, shop):
    sandbox.admin.oauth(shop_id=shop["shop_id"], decision="deny")
    reply = authorize(sandbox, pkce()[1])
    assert reply.status_code == 302
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["st-123"] and "code" not in query


def test_refresh_rotates_and_counts(sandbox, shop):
    first = token(sandbox, grant_type="refresh_token", client_id=sandbox.keystring,
                  refresh_token=shop["refresh_token"])
    assert first.status_code == 200
    pair = first.json()
    assert pair["refresh_token"] != shop["refresh_token"]
    # The old refresh token died at once.
    reused = token(sandbox, grant_type="refresh_token", client_id=sandbox.keystring,
                   refresh_token=shop["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    second = token(sandbox, grant_type="refresh_token", client_id=sandbox.keystring,
                   refresh_token=pair["refresh_token"])
    assert second.status_code == 200
    counters = sandbox.admin.counters()
    assert counters["refreshes_by_shop"][str(shop["shop_id"])] == 2
    assert counters["refresh_failures_by_shop"][str(shop["shop_id"])] == 1
    assert Etsy(sandbox, second.json()["access_token"]).get("/users/me").status_code == 200


def test_expired_refresh_token_is_invalid_grant(sandbox):
    sandbox.admin.config(refresh_token_ttl_seconds=0)
    shop = sandbox.admin.create_shop()
    reply = token(sandbox, grant_type="refresh_token", client_id=sandbox.keystring,
                  refresh_token=shop["refresh_token"])
    assert reply.status_code == 400
    assert reply.json() == {"error": "invalid_grant", "error_description": "refresh_token has expired"}
    sandbox.admin.config(refresh_token_ttl_seconds=90 * 86400)


def test_expired_access_token_is_invalid_token(sandbox, shop, etsy):
    assert etsy.get("/users/me").status_code == 200
    assert sandbox.admin.expire_tokens(shop_id=shop["shop_id"])["expired"] >= 1
    reply = etsy.get("/users/me")
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_token"


def test_short_access_token_lifetime(sandbox):
    shop = sandbox.admin.create_shop(access_token_ttl_seconds=120)
    assert shop["expires_in"] == 120


def test_password_change_revokes_everything(sandbox, shop, etsy):
    sandbox.admin.revoke_tokens(shop["shop_id"])
    assert etsy.get("/users/me").status_code == 401
    reply = token(sandbox, grant_type="refresh_token", client_id=sandbox.keystring,
                  refresh_token=shop["refresh_token"])
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"


def test_token_exchange_of_a_legacy_token(sandbox, shop):
    legacy = sandbox.admin.legacy_token(shop["shop_id"])
    reply = token(sandbox, grant_type="token_exchange", client_id=sandbox.keystring,
                  legacy_token=legacy["oauth_token"])
    assert reply.status_code == 200, reply.text
    pair = reply.json()
    assert Etsy(sandbox, pair["access_token"]).get("/users/me").json()["shop_id"] == shop["shop_id"]
    again = token(sandbox, grant_type="token_exchange", client_id=sandbox.keystring,
                  legacy_token=legacy["oauth_token"])
    assert again.json() == {"error": "invalid_grant", "error_description": "legacy_token is invalid (no such token)"}


def test_token_endpoint_takes_a_form_or_json_from_a_known_client(sandbox, shop):
    as_json = requests.post(sandbox.url + "/v3/public/oauth/token", timeout=TIMEOUT,
                            json={"grant_type": "refresh_token", "client_id": sandbox.keystring,
                                  "refresh_token": shop["refresh_token"]})
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["refresh_token"] != shop["refresh_token"]  # rotated, as with a form
    as_text = requests.post(sandbox.url + "/v3/public/oauth/token", timeout=TIMEOUT, data="grant_type=x",
                            headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 400 and as_text.json()["error"] == "invalid_request"
    stranger = token(sandbox, grant_type="refresh_token", client_id="stranger", refresh_token=shop["refresh_token"])
    assert stranger.status_code == 401 and stranger.json()["error"] == "invalid_client"
    odd = token(sandbox, grant_type="password", client_id=sandbox.keystring)
    assert odd.json()["error"] == "unsupported_grant_type"


def test_scopes_and_shop_ownership_are_enforced(sandbox, shop):
    reader = sandbox.admin.issue_tokens(shop["shop_id"], scopes="shops_r")
    etsy = Etsy(sandbox, reader["access_token"])
    assert etsy.get(f"/shops/{shop['shop_id']}/shipping-profiles").status_code == 200
    denied = etsy.get(f"/shops/{shop['shop_id']}/receipts")
    assert denied.status_code == 403 and denied.json()["error"] == "insufficient_scope"
    other = sandbox.admin.create_shop()
    foreign = Etsy(sandbox, other["access_token"]).get(f"/shops/{shop['shop_id']}/receipts")
    assert foreign.status_code == 403
    assert Etsy(sandbox).get(f"/shops/{shop['shop_id']}/receipts").status_code == 401  # no token at all


def test_api_key_rules(sandbox, shop):
    assert Etsy(sandbox, shop["access_token"], api_key="sandboxkey:wrong").get("/users/me").status_code == 403
    assert Etsy(sandbox, shop["access_token"], api_key="nobody:secret").get("/users/me").status_code == 403
    bare = requests.get(sandbox.url + "/v3/application/users/me", timeout=TIMEOUT,
                        headers={"Authorization": f"Bearer {shop['access_token']}"})
    assert bare.status_code == 403
    app = sandbox.admin.create_app(keystring="otherapp", shared_secret="othersecret")
    # A token belongs to the app it was issued to.
    cross = Etsy(sandbox, shop["access_token"], api_key=f"{app['keystring']}:{app['shared_secret']}").get("/users/me")
    assert cross.status_code == 401


def test_call_log_never_holds_secrets(sandbox, shop):
    token(sandbox, grant_type="refresh_token", client_id=sandbox.keystring, refresh_token=shop["refresh_token"])
    Etsy(sandbox, shop["access_token"]).get("/users/me")
    log = str(sandbox.admin.calls())
    assert shop["refresh_token"] not in log and shop["access_token"] not in log
    assert sandbox.shared_secret not in log and "[redacted]" in log
