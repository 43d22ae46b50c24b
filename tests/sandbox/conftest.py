"""Fixtures: one sandbox per module over real HTTP, reset before each test."""

from __future__ import annotations

import pytest
import requests

from etsy_sandbox.testing import run_sandbox

TIMEOUT = 10


@pytest.fixture(scope="module")
def sandbox_server():
    with run_sandbox(rate_per_second=1000, rate_per_day=1_000_000, check_responses=True) as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.admin.reset(keep_config=False)
    sandbox_server.admin.config(rate_per_second=1000, rate_per_day=1_000_000, strict=True, check_responses=True,
                                access_token_ttl_seconds=3600)
    yield sandbox_server
    # The sandbox checked each of its own answers against Etsy's document.
    broken = [v for v in sandbox_server.admin.violations() if v["kind"] == "response"]
    assert broken == [], broken


class Etsy:
    """A tiny client for the tests: api key + Bearer token, a timeout on every call."""

    def __init__(self, sandbox, token=None, api_key=None):
        self.base = sandbox.url + "/v3/application"
        self.session = requests.Session()
        self.session.headers["x-api-key"] = api_key or sandbox.api_key
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, **kw):
        return self.session.request(method, self.base + path, timeout=TIMEOUT, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def put(self, path, **kw):
        return self.call("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.call("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def shop(sandbox):
    return sandbox.admin.create_shop(shop_name="TestShop")


@pytest.fixture
def etsy(sandbox, shop):
    return Etsy(sandbox, shop["access_token"])


def setup_listing(etsy, shop, *, image=True, taxonomy_id=374, **fields):
    """A shipping profile, a processing profile and a draft listing (with one image) in ``shop``."""
    from etsy_sandbox.images import tiny_png

    sid = shop["shop_id"]
    profile = etsy.post(f"/shops/{sid}/shipping-profiles", data={
        "title": "Standard", "origin_country_iso": "US", "origin_postal_code": "10001", "primary_cost": "4.50",
        "secondary_cost": "1.00", "destination_country_iso": "US", "min_delivery_days": 2, "max_delivery_days": 5})
    assert profile.status_code == 200, profile.text
    readiness = etsy.post(f"/shops/{sid}/readiness-state-definitions", data={
        "readiness_state": "ready_to_ship", "min_processing_time": 1, "max_processing_time": 3})
    if readiness.status_code == 409:
        readiness = etsy.get(readiness.headers["Content-Location"].replace("/v3/application", ""))
    assert readiness.status_code in (200, 201), readiness.text
    data = {"quantity": 5, "title": "Red linen dress", "description": "A dress.", "price": "24.99",
            "who_made": "i_did", "when_made": "made_to_order", "taxonomy_id": taxonomy_id,
            "shipping_profile_id": profile.json()["shipping_profile_id"],
            "readiness_state_id": readiness.json()["readiness_state_id"],
            "return_policy_id": shop["return_policy_id"], **fields}
    listing = etsy.post(f"/shops/{sid}/listings", data=data)
    assert listing.status_code == 201, listing.text
    listing = listing.json()
    if image:
        uploaded = etsy.post(f"/shops/{sid}/listings/{listing['listing_id']}/images",
                             files={"image": ("a.png", tiny_png(), "image/png")}, data={"rank": 1})
        assert uploaded.status_code == 201, uploaded.text
    return {"listing": listing, "listing_id": listing["listing_id"],
            "shipping_profile_id": profile.json()["shipping_profile_id"],
            "readiness_state_id": readiness.json()["readiness_state_id"]}
