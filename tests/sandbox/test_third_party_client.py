"""A third-party Etsy v3 client from PyPI drives the sandbox through a seller's whole flow.

The client is ``etsy-python`` (pinned in the test extra), used through its public
API only, as a seller's script would, with two set-ups a user of it needs:

* base URLs: the client reads them from ``etsy_python.v3.common.Env.environment``;
  they are pointed at the sandbox (the only change the client gets);
* the ``x-api-key`` header: etsy-python 1.2.3 sends the keystring alone, which
  Etsy refuses since 2026-02-09 ("Shared secret is required in x-api-key
  header.", etsy/open-api discussion #1529). Its users set the header to
  ``KEYSTRING:SHARED_SECRET`` on the client's session, as done here; the test
  first shows the refusal the outdated header gets.

(The other candidate, ``etsyv3`` 0.0.7, cannot drive this flow: its shipping-profile
methods take no arguments, it has no processing profiles or return policies, and
its OAuth and refresh URLs are written into the code.)

OAuth runs through the client's own ``EtsyOAuth`` (requests-oauthlib), which
needs ``OAUTHLIB_INSECURE_TRANSPORT=1`` to talk to the sandbox's http:// URLs,
as for any local OAuth server. The sandbox runs strict (every request checked
against Etsy's document) and checks each of its answers too.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from etsy_python.v3.auth.OAuth import EtsyOAuth
from etsy_python.v3.common import Env
from etsy_python.v3.enums.Listing import Includes, State, WhenMade, WhoMade
from etsy_python.v3.enums.ProcessingProfile import ReadinessState
from etsy_python.v3.exceptions.RequestException import RequestException
from etsy_python.v3.models.Listing import (CreateDraftListingRequest, UpdateListingInventoryRequest,
                                           UpdateListingRequest, UploadListingImageRequest)
from etsy_python.v3.models.ProcessingProfile import CreateShopReadinessStateDefinitionRequest
from etsy_python.v3.models.Product import Product
from etsy_python.v3.models.Receipt import CreateReceiptShipmentRequest
from etsy_python.v3.models.ShippingProfile import CreateShopShippingProfileRequest
from etsy_python.v3.models.ShopReturnPolicy import CreateShopReturnPolicyRequest
from etsy_python.v3.resources import (EtsyClient, ListingImageResource, ListingInventoryResource,
                                      ListingResource, ProcessingProfileResource, ReceiptResource,
                                      ReceiptTransactionsResource, ShippingProfileResource, ShopResource,
                                      ShopReturnPolicyResource, UserResource)

from etsy_sandbox.images import tiny_png

SCOPES = ["listings_r", "listings_w", "listings_d", "shops_r", "shops_w", "transactions_r", "transactions_w",
          "email_r"]
REDIRECT_URI = "https://seller-tool.example/etsy/callback"


@pytest.fixture
def etsy_python_at_the_sandbox(sandbox, monkeypatch):
    """The client's base URLs pointed at the sandbox; http allowed for its OAuth library."""
    monkeypatch.setattr(Env.environment, "authorization_url", sandbox.authorize_url)
    monkeypatch.setattr(Env.environment, "token_url", sandbox.url + "/v3/public/oauth/token")
    monkeypatch.setattr(Env.environment, "request_url", sandbox.url + "/v3/application")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    return sandbox


def _connect(sandbox) -> dict:
    """OAuth 2.0 with PKCE through the client's EtsyOAuth; the sandbox's seller approves."""
    oauth = EtsyOAuth(sandbox.keystring, REDIRECT_URI, scopes=SCOPES)
    url, state = oauth.get_auth_code()
    assert url.startswith(sandbox.authorize_url) and "code_challenge_method=S256" in url
    answer = requests.get(url, allow_redirects=False, timeout=10)  # the seller clicks "Allow access"
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    oauth.set_authorisation_code(query["code"][0], query["state"][0])
    return oauth.get_access_token()


def test_a_seller_flow_with_etsy_python(etsy_python_at_the_sandbox):
    sandbox = etsy_python_at_the_sandbox
    made = sandbox.admin.create_shop(shop_name="ThirdPartyShop", country_iso="US", currency_code="USD")
    shop_id = made["shop_id"]
    sandbox.admin.oauth(shop_id=shop_id, decision="approve")

    token = _connect(sandbox)
    assert token["access_token"].startswith(f"{made['user_id']}.") and token["refresh_token"]
    client = EtsyClient(sandbox.keystring, token["access_token"], token["refresh_token"],
                        datetime.now(timezone.utc) + timedelta(seconds=token["expires_in"]))

    # The client's own x-api-key (keystring alone) is refused as Etsy refuses it ...
    with pytest.raises(RequestException) as outdated:
        UserResource(client).get_me()
    assert outdated.value.code == 403 and outdated.value.error == "Shared secret is required in x-api-key header."
    # ... so its user sends KEYSTRING:SHARED_SECRET.
    client.session.headers["x-api-key"] = sandbox.api_key

    # Refresh (a JSON body): the refresh token rotates.
    old_refresh = client.refresh_token
    access, refresh, _expiry = client.update_token()
    assert refresh != old_refresh and access != token["access_token"]
    stale = requests.post(Env.environment.token_url, timeout=10, data={
        "grant_type": "refresh_token", "client_id": sandbox.keystring, "refresh_token": old_refresh})
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"

    me = UserResource(client).get_me().message
    assert me == {"user_id": made["user_id"], "shop_id": shop_id}
    shop = ShopResource(client).get_shop(shop_id).message
    assert (shop["shop_name"], shop["currency_code"]) == ("ThirdPartyShop", "USD")

    # Shipping profile, processing profile ("readiness state"), return policy: JSON bodies.
    profile = ShippingProfileResource(client).create_shop_shipping_profile(shop_id, CreateShopShippingProfileRequest(
        title="Standard US", origin_country_iso="US", origin_postal_code="10001", primary_cost=4.5,
        secondary_cost=1.0, destination_country_iso="US", min_delivery_days=2, max_delivery_days=5)).message
    assert profile["title"] == "Standard US"
    assert profile["shipping_profile_destinations"][0]["primary_cost"] == {"amount": 450, "divisor": 100,
                                                                          "currency_code": "USD"}
    readiness = ProcessingProfileResource(client).create_shop_readiness_state_definition(
        shop_id, CreateShopReadinessStateDefinitionRequest(ReadinessState.READY_TO_SHIP, 1, 3)).message
    assert (readiness["readiness_state"], readiness["max_processing_days"]) == ("ready_to_ship", 3)
    policy = ShopReturnPolicyResource(client).create_shop_return_policy(
        shop_id, CreateShopReturnPolicyRequest(accepts_returns=True, accepts_exchanges=True, return_deadline=30)).message
    assert (policy["accepts_returns"], policy["return_deadline"]) == (True, 30)

    # Draft listing (JSON), an image (multipart), a two-property inventory (JSON), activation (JSON PATCH).
    listings = ListingResource(client)
    listing = listings.create_draft_listing(shop_id, CreateDraftListingRequest(
        quantity=6, title="Linen summer dress", description="A dress of washed linen.", price=49.0,
        who_made=WhoMade.I_DID, when_made=WhenMade.MADE_TO_ORDER, taxonomy_id=374,  # Etsy's "Clothing"
        shipping_profile_id=profile["shipping_profile_id"], return_policy_id=policy["return_policy_id"],
        readiness_state_id=readiness["readiness_state_id"], tags=["dress", "linen"], materials=["linen"])).message
    listing_id = listing["listing_id"]
    assert (listing["state"], listing["title"], listing["tags"]) == ("draft", "Linen summer dress", ["dress", "linen"])
    image = ListingImageResource(client).upload_listing_image(
        shop_id, listing_id, UploadListingImageRequest(tiny_png(), rank=1, alt_text="Front")).message
    assert image["rank"] == 1 and image["alt_text"] == "Front"

    def product(sku, colour_id, colour, size_id, size, price, quantity):
        return Product(sku=sku, property_values=[
            {"property_id": 200, "property_name": "Primary color", "value_ids": [colour_id], "values": [colour]},
            {"property_id": 100, "property_name": "Size", "scale_id": 301, "value_ids": [size_id], "values": [size]},
        ], offerings=[{"price": price, "quantity": quantity, "is_enabled": True,
                       "readiness_state_id": readiness["readiness_state_id"]}])

    inventory = ListingInventoryResource(client).update_listing_inventory(listing_id, UpdateListingInventoryRequest(
        products=[product("DR-BLU-S", 2, "Blue", 1797, "S", 49.0, 2), product("DR-BLU-M", 2, "Blue", 1798, "M", 49.0, 3),
                  product("DR-RED-S", 9, "Red", 1797, "S", 52.0, 1)],
        price_on_property=[200], quantity_on_property=[200, 100], sku_on_property=[200, 100])).message
    assert sorted(p["sku"] for p in inventory["products"]) == ["DR-BLU-M", "DR-BLU-S", "DR-RED-S"]
    assert inventory["products"][0]["property_values"][1]["scale_name"] == "Letter"
    active = listings.update_listing(shop_id, listing_id, UpdateListingRequest(state=State.ACTIVE)).message
    assert active["state"] == "active" and active["quantity"] == 6

    # Listings by shop with includes (the client sends them comma separated).
    page = listings.get_listings_by_shop(shop_id, state=State.ACTIVE,
                                         includes=[Includes.IMAGES, Includes.INVENTORY]).message
    [row] = page["results"]
    assert row["listing_id"] == listing_id and len(row["images"]) == 1
    assert len(row["inventory"]["products"]) == 3

    # A buyer orders; receipts with transactions; a shipment with tracking (JSON).
    receipt = sandbox.admin.create_receipt(shop_id, items=[{"listing_id": listing_id, "quantity": 1}],
                                           country_iso="US")
    receipts = ReceiptResource(client)
    found = receipts.get_shop_receipts(shop_id, was_paid=True, was_shipped=False).message
    assert [r["receipt_id"] for r in found["results"]] == [receipt["receipt_id"]]
    assert found["results"][0]["transactions"][0]["listing_id"] == listing_id
    transactions = ReceiptTransactionsResource(client).get_shop_receipt_transactions_by_receipt(
        shop_id, receipt["receipt_id"]).message
    assert [t["listing_id"] for t in transactions["results"]] == [listing_id]
    shipped = receipts.create_receipt_shipment(shop_id, receipt["receipt_id"], CreateReceiptShipmentRequest(
        tracking_code="9400111899223344556677", carrier_name="usps", send_bcc=False,
        note_to_buyer="On its way")).message
    assert shipped["is_shipped"] is True
    assert shipped["shipments"][0]["tracking_code"] == "9400111899223344556677"

    # Error cases, answered as Etsy answers them.
    with pytest.raises(RequestException) as missing:
        listings.get_listing(999)
    assert missing.value.code == 404
    with pytest.raises(RequestException) as refused:
        listings.create_draft_listing(shop_id, CreateDraftListingRequest(
            quantity=1, title="Nowhere", description="d", price=1.0, who_made=WhoMade.I_DID,
            when_made=WhenMade.MADE_TO_ORDER, taxonomy_id=999999, shipping_profile_id=profile["shipping_profile_id"],
            readiness_state_id=readiness["readiness_state_id"], return_policy_id=policy["return_policy_id"]))
    assert refused.value.code == 400 and "999999" in refused.value.error
    sandbox.admin.expire_tokens(shop_id=shop_id)
    with pytest.raises(RequestException) as expired:
        UserResource(client).get_me()
    assert expired.value.code == 401 and expired.value.error == "invalid_token"
    client.update_token()  # what the client's user does on invalid_token
    assert UserResource(client).get_me().message["shop_id"] == shop_id

    # Nothing the client sent broke Etsy's document (strict mode was on throughout).
    assert [v for v in sandbox.admin.violations() if v["kind"] == "request"] == []
