"""The sandbox answers like Etsy for the basics: api key, tokens, shop."""

from __future__ import annotations

from .conftest import Etsy


def test_get_me_and_shop(sandbox, shop, etsy):
    me = etsy.get("/users/me")
    assert me.status_code == 200
    assert me.json() == {"user_id": shop["user_id"], "shop_id": shop["shop_id"]}
    assert me.headers["x-limit-per-second"] == "1000"
    got = etsy.get(f"/shops/{shop['shop_id']}").json()
    assert got["shop_id"] == shop["shop_id"] and got["shop_name"] == "TestShop"
    assert sandbox.admin.violations() == []


def test_keystring_alone_is_refused(sandbox, shop):
    reply = Etsy(sandbox, shop["access_token"], api_key=sandbox.keystring).get("/users/me")
    assert reply.status_code == 403
    assert reply.json() == {"error": "Shared secret is required in x-api-key header."}
