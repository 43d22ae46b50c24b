"""What a handler gets: the request, its parsed parts, the caller's app and token."""

from __future__ import annotations

import json

from werkzeug.wrappers import Request

from .errors import bad_request, not_found
from .forms import Params


class Ctx:
    def __init__(self, sandbox, request: Request, operation_id: str, path_params: dict):
        self.sandbox = sandbox
        self.state = sandbox.state
        self.config = sandbox.state.config
        self.request = request
        self.operation_id = operation_id
        self.raw_params = path_params
        self.app = None
        self.token = None
        self._json = None

    @property
    def base_url(self) -> str:
        return self.request.host_url.rstrip("/")

    def path_int(self, name: str) -> int:
        raw = self.raw_params[name]
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"{name} must be an integer (got {raw!r})") from None
        if value < 1:
            raise bad_request(f"{name} must be at least 1")
        return value

    def query(self) -> Params:
        return Params(self.request.args)

    def form(self) -> Params:
        """The body's fields, whether form-encoded, multipart (files are read separately) or a
        JSON object: Etsy takes JSON wherever its document describes a form body."""
        if (self.request.mimetype or "").endswith("json"):
            return Params.from_json(self.json())
        return Params(self.request.form)

    def json(self) -> dict:
        if self._json is None:
            if not (self.request.mimetype or "").endswith("json"):
                raise bad_request("this endpoint expects an application/json body")
            try:
                self._json = json.loads(self.request.get_data() or b"null")
            except ValueError:
                raise bad_request("request body is not valid JSON") from None
            if not isinstance(self._json, dict):
                raise bad_request("request body must be a JSON object")
        return self._json

    # -- lookups (call with state.lock held) ------------------------------------
    def shop(self) -> dict:
        shop_id = self.path_int("shop_id")
        shop = self.state.shops.get(shop_id)
        if shop is None:
            raise not_found(f"Shop with shop_id {shop_id} not found")
        return shop

    def listing(self, *, of_shop: dict | None = None) -> dict:
        listing_id = self.path_int("listing_id")
        listing = self.state.listings.get(listing_id)
        if listing is None or (of_shop is not None and listing["shop_id"] != of_shop["shop_id"]):
            raise not_found(f"Listing with listing_id {listing_id} not found" +
                            (f" in shop {of_shop['shop_id']}" if of_shop is not None else ""))
        return listing
