"""The admin interface under ``/_sandbox/``: JSON in, JSON out, no auth (a test tool).

Every endpoint is listed by ``GET /_sandbox/`` with a one-line description;
the README section of the sandbox documents their bodies.
"""

from __future__ import annotations

import json
import secrets
import time

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import oauth, ops_listings, ops_shop, receipts_admin, webhooks
from .config import SELLER_SCOPES
from .errors import ApiError
from .faults import FaultError, validate_rule


class AdminError(ApiError):
    pass


def _bad(message: str) -> AdminError:
    return AdminError(400, message)


ENDPOINTS = [
    ("GET", "/_sandbox/", "index", "this list"),
    ("GET", "/_sandbox/health", "health", "liveness and strict-mode status"),
    ("POST", "/_sandbox/reset", "reset", "forget everything (apps, shops, tokens, logs, faults); {keep_config}"),
    ("GET", "/_sandbox/config", "get_config", "current settings"),
    ("PUT", "/_sandbox/config", "put_config", "change settings: any SandboxConfig field"),
    ("GET", "/_sandbox/apps", "list_apps", "apps (keystrings) and their rate-limit counters"),
    ("POST", "/_sandbox/apps", "create_app", "new app {keystring?, shared_secret?, rate_per_second?, rate_per_day?, redirect_uris?}"),
    ("GET", "/_sandbox/shops", "list_shops", "shops with owner ids"),
    ("POST", "/_sandbox/shops", "create_shop", "seller user + shop + token pair {shop_name?, country_iso?, currency_code?, email?, scopes?, with_return_policy?, access_token_ttl_seconds?}"),
    ("GET", "/_sandbox/shops/<int:shop_id>", "get_shop", "a shop with its counters"),
    ("POST", "/_sandbox/shops/<int:shop_id>/tokens", "shop_tokens", "issue another token pair {scopes?, keystring?, access_token_ttl_seconds?}"),
    ("POST", "/_sandbox/shops/<int:shop_id>/revoke-tokens", "revoke_tokens", "password change: every token of the shop dies"),
    ("POST", "/_sandbox/tokens/expire", "expire_tokens", "expire access tokens now {access_token} or {shop_id}"),
    ("POST", "/_sandbox/legacy-tokens", "legacy_token", "register an OAuth 1.0a token for token_exchange {shop_id, keystring?, scopes?}"),
    ("PUT", "/_sandbox/oauth", "oauth_settings", "who the authorize page signs in as {shop_id?|user_id?, decision: approve|deny}"),
    ("GET", "/_sandbox/calls", "list_calls", "call log ?operation_id=&since_seq=&limit="),
    ("DELETE", "/_sandbox/calls", "clear_calls", "clear the call log"),
    ("GET", "/_sandbox/counters", "counters", "calls per operation, writes, 429s, refreshes per shop, peak calls/s"),
    ("POST", "/_sandbox/counters/reset", "reset_counters", "zero the counters and rate-limit windows"),
    ("GET", "/_sandbox/violations", "list_violations", "requests/responses that broke Etsy's OpenAPI"),
    ("DELETE", "/_sandbox/violations", "clear_violations", "clear the violations"),
    ("GET", "/_sandbox/faults", "list_faults", "active fault rules"),
    ("POST", "/_sandbox/faults", "add_fault", "add a fault rule (see faults.py)"),
    ("DELETE", "/_sandbox/faults", "clear_faults", "remove all fault rules"),
    ("DELETE", "/_sandbox/faults/<int:rule_id>", "remove_fault", "remove one rule"),
    ("GET", "/_sandbox/rate-limits", "get_rate_limits", "per-app limits and counters"),
    ("PUT", "/_sandbox/rate-limits", "put_rate_limits", "{keystring?, per_second?, per_day?, window?, reset?}"),
    ("POST", "/_sandbox/shops/<int:shop_id>/receipts", "create_receipt", "an order placed by a buyer"),
    ("POST", "/_sandbox/shops/<int:shop_id>/receipts/bulk", "bulk_receipts", "{count, ...receipt fields} N orders at once"),
    ("GET", "/_sandbox/receipts/<int:receipt_id>", "get_receipt", "a receipt as Etsy shows it, plus buyer notifications"),
    ("POST", "/_sandbox/receipts/<int:receipt_id>/<action>", "receipt_action", "pay | ship | cancel | refund | deliver | ship-date | timestamps"),
    ("POST", "/_sandbox/listings/<int:listing_id>/freeze", "freeze_listing", "{frozen: true|false}: activation answers 409"),
    ("POST", "/_sandbox/shops/<int:shop_id>/listings", "seed_listings", "listings the seller made on Etsy {listings: [{title, state, price, quantity, sku?, variations?[{sku, options, price, quantity}]}]}"),
    ("GET", "/_sandbox/images/<image>", "image", "bytes of an uploaded image"),
    ("GET", "/_sandbox/webhooks", "get_webhooks", "webhook settings (url, signing secret) and deliveries"),
    ("PUT", "/_sandbox/webhooks", "put_webhooks", "{url?, signing_secret?}: ORDER_PAID is sent on every payment"),
    ("POST", "/_sandbox/webhooks/send", "send_webhook", "send one signed notification {url?, shop_id, receipt_id?, event_type?}"),
]


class Admin:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.state = sandbox.state
        self.url_map = Map([Rule(path, endpoint=name, methods=[method]) for method, path, name, _ in ENDPOINTS],
                           strict_slashes=False)

    def dispatch(self, request: Request) -> Response:
        from .app import json_response

        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return json_response(404, {"error": f"no admin endpoint {request.method} {request.path}; see GET /_sandbox/"})
        except MethodNotAllowed:
            return json_response(405, {"error": f"method {request.method} not allowed on {request.path}"})
        try:
            body = self._body(request)
            result = getattr(self, endpoint)(request, body, **args)
        except ApiError as error:
            return json_response(error.status, error.body())
        if isinstance(result, Response):
            return result
        status = 200
        if isinstance(result, tuple):
            status, result = result
        return json_response(status, result)

    @staticmethod
    def _body(request: Request) -> dict:
        if request.method in ("GET", "DELETE") and not request.content_length:
            return {}
        raw = request.get_data()
        if not raw:
            return {}
        try:
            payload = json.loads(raw)
        except ValueError:
            raise _bad("admin requests take a JSON body") from None
        if not isinstance(payload, dict):
            raise _bad("admin request body must be a JSON object")
        return payload

    # -- general -----------------------------------------------------------------------
    def index(self, request, body):
        return {"endpoints": [{"method": m, "path": p, "description": d} for m, p, _n, d in ENDPOINTS]}

    def health(self, request, body):
        sandbox = self.sandbox
        return {"ok": True, "strict": sandbox.strict_active, "check_responses": bool(sandbox.config.check_responses),
                "uptime_seconds": round(time.time() - self.state.started, 3)}

    def reset(self, request, body):
        config = self.state.config if body.get("keep_config", True) else \
            type(self.state.config)(openapi_path=self.state.config.openapi_path)  # the document is read at start
        self.state.reset(config)
        self.sandbox.faults.clear()
        return {"ok": True}

    def get_config(self, request, body):
        return self.state.config.public()

    def put_config(self, request, body):
        try:
            return self.sandbox.reconfigure(body).public()
        except ValueError as error:
            raise _bad(str(error)) from None

    # -- apps, shops, tokens --------------------------------------------------------------
    def _app_view(self, app):
        return {"keystring": app.keystring, "shared_secret": app.shared_secret, "redirect_uris": app.redirect_uris,
                "rate": app.limiter.stats()}

    def list_apps(self, request, body):
        with self.state.lock:
            apps = list(self.state.apps.values())
        return {"apps": [self._app_view(a) for a in apps]}

    def create_app(self, request, body):
        keystring = body.get("keystring") or secrets.token_hex(12)
        secret = body.get("shared_secret") or secrets.token_hex(8)
        for name, value in (("keystring", keystring), ("shared_secret", secret)):
            if not isinstance(value, str) or ":" in value or not value.strip():
                raise _bad(f"{name} must be a non-empty string without ':'")
        with self.state.lock:
            if keystring in self.state.apps:
                raise AdminError(409, f"app {keystring} exists")
            app = self.state.add_app(keystring, secret, _opt_int(body, "rate_per_second"),
                                     _opt_int(body, "rate_per_day"), body.get("redirect_uris"))
        return 201, self._app_view(app)

    def _shop_view(self, shop):
        state = self.state
        return {"shop_id": shop["shop_id"], "user_id": shop["user_id"], "shop_name": shop["shop_name"],
                "login_name": shop["login_name"], "country_iso": shop["country_iso"],
                "currency_code": shop["currency_code"], "email": state.users[shop["user_id"]]["email"],
                "refreshes": state.refreshes_by_shop.get(shop["shop_id"], 0),
                "refresh_failures": state.refresh_failures_by_shop.get(shop["shop_id"], 0),
                "receipts": len(state.receipts_by_shop.get(shop["shop_id"], [])),
                "listings": sum(1 for l in state.listings.values() if l["shop_id"] == shop["shop_id"])}

    def list_shops(self, request, body):
        with self.state.lock:
            return {"shops": [self._shop_view(s) for s in self.state.shops.values()]}

    def get_shop(self, request, body, shop_id):
        with self.state.lock:
            return self._shop_view(self._shop(shop_id))

    def _shop(self, shop_id):
        shop = self.state.shops.get(shop_id)
        if shop is None:
            raise AdminError(404, f"no shop {shop_id}")
        return shop

    def _keystring(self, body):
        keystring = body.get("keystring") or self.state.config.keystring
        if keystring not in self.state.apps:
            raise _bad(f"unknown keystring {keystring!r}")
        return keystring

    def _scopes(self, body):
        scopes = body.get("scopes", SELLER_SCOPES)
        if isinstance(scopes, list):
            scopes = " ".join(scopes)
        if not isinstance(scopes, str):
            raise _bad("scopes must be a space-separated string or a list")
        return scopes

    def create_shop(self, request, body):
        state = self.state
        country = body.get("country_iso", "US")
        currency = body.get("currency_code", "USD")
        if not isinstance(country, str) or len(country) != 2 or not country.isupper():
            raise _bad("country_iso must be two upper-case letters")
        if not isinstance(currency, str) or len(currency) != 3:
            raise _bad("currency_code must be a 3-letter code")
        scopes = self._scopes(body)
        ttl = _opt_int(body, "access_token_ttl_seconds")
        with state.lock:
            keystring = self._keystring(body)
            user_id = _opt_int(body, "user_id") or state.next_id("user")
            shop_id = _opt_int(body, "shop_id") or state.next_id("shop")
            if user_id in state.users or shop_id in state.shops:
                raise AdminError(409, "user_id or shop_id already exists")
            name = body.get("shop_name") or f"SandboxShop{shop_id}"
            if not isinstance(name, str) or not name.isalnum() or len(name) > 20:
                raise _bad("shop_name must be 1-20 letters or digits (Etsy's rule)")
            login = body.get("login_name") or name.lower()
            email = body.get("email", f"{login}@sandbox.example")
            now = int(time.time())
            state.users[user_id] = {"user_id": user_id, "email": email, "login_name": login,
                                    "first_name": body.get("first_name", "Sandy"),
                                    "last_name": body.get("last_name", "Seller")}
            state.shops[shop_id] = {"shop_id": shop_id, "user_id": user_id, "shop_name": name, "login_name": login,
                                    "title": body.get("title"), "currency_code": currency, "country_iso": country,
                                    "created": now, "updated": now}
            state.shop_by_user[user_id] = shop_id
            state.receipts_by_shop[shop_id] = []
            policy_id = None
            if body.get("with_return_policy", True):
                policy_id = ops_shop.new_return_policy(state, shop_id, {"accepts_returns": True,
                                                                        "accepts_exchanges": True,
                                                                        "return_deadline": 30})["return_policy_id"]
        tokens = oauth.issue_tokens(state, user_id, keystring, scopes, access_ttl=ttl)
        return 201, {**self.get_shop(request, {}, shop_id), **tokens, "keystring": keystring, "scopes": scopes,
                     "return_policy_id": policy_id}

    def shop_tokens(self, request, body, shop_id):
        with self.state.lock:
            shop = self._shop(shop_id)
            keystring = self._keystring(body)
        tokens = oauth.issue_tokens(self.state, shop["user_id"], keystring, self._scopes(body),
                                    access_ttl=_opt_int(body, "access_token_ttl_seconds"))
        return 201, {"shop_id": shop_id, "user_id": shop["user_id"], **tokens}

    def revoke_tokens(self, request, body, shop_id):
        with self.state.lock:
            self._shop(shop_id)
        return {"revoked": oauth.revoke_shop_tokens(self.state, shop_id)}

    def expire_tokens(self, request, body):
        token, shop_id = body.get("access_token"), _opt_int(body, "shop_id")
        if not token and shop_id is None:
            raise _bad("give access_token or shop_id")
        if shop_id is not None:
            with self.state.lock:
                self._shop(shop_id)
        return {"expired": oauth.expire_access_tokens(self.state, token=token, shop_id=shop_id)}

    def legacy_token(self, request, body):
        shop_id = _opt_int(body, "shop_id")
        with self.state.lock:
            shop = self._shop(shop_id)
            keystring = self._keystring(body)
            token = body.get("oauth_token") or secrets.token_hex(15)
            secret = body.get("oauth_token_secret") or secrets.token_hex(5)
            self.state.legacy_tokens[token] = {"user_id": shop["user_id"], "keystring": keystring,
                                               "secret": secret, "scopes": body.get("scopes")}
        return 201, {"oauth_token": token, "oauth_token_secret": secret, "shop_id": shop_id,
                     "user_id": shop["user_id"]}

    def oauth_settings(self, request, body):
        with self.state.lock:
            if "shop_id" in body:
                self.state.authorize_user_id = self._shop(_opt_int(body, "shop_id"))["user_id"]
            elif "user_id" in body:
                user_id = _opt_int(body, "user_id")
                if user_id not in self.state.users:
                    raise AdminError(404, f"no user {user_id}")
                self.state.authorize_user_id = user_id
            decision = body.get("decision", self.state.authorize_decision)
            if decision not in ("approve", "deny"):
                raise _bad("decision must be approve or deny")
            self.state.authorize_decision = decision
            return {"user_id": self.state.authorize_user_id, "decision": decision}

    # -- observability ----------------------------------------------------------------------------
    def list_calls(self, request, body):
        args = request.args
        operation = args.get("operation_id")
        since = int(args.get("since_seq", 0) or 0)
        limit = int(args.get("limit", 1000) or 1000)
        with self.state.lock:
            rows = [c for c in self.state.calls if c["seq"] > since and (not operation or c["operation_id"] == operation)]
        return {"count": len(rows), "calls": rows[-limit:]}

    def clear_calls(self, request, body):
        with self.state.lock:
            self.state.calls.clear()
        return {"ok": True}

    def counters(self, request, body):
        state = self.state
        with state.lock:
            apps = {k: a.limiter.stats() for k, a in state.apps.items()}
            default = apps.get(state.config.keystring, {})
            return {
                "calls_total": sum(state.by_operation.values()),
                "calls_by_operation": dict(state.by_operation),
                "status_counts": dict(state.status_counts),
                "writes": state.writes,
                "rate_limited_429": sum(a["rate_limited_429"] for a in apps.values()),
                "peak_per_second": max((a["peak_per_second"] for a in apps.values()), default=0),
                "faults_injected": state.faults_injected,
                "refreshes_by_shop": {str(k): v for k, v in state.refreshes_by_shop.items()},
                "refresh_failures_by_shop": {str(k): v for k, v in state.refresh_failures_by_shop.items()},
                "token_requests": dict(state.token_requests),
                "violations": len(state.violations),
                "apps": apps,
                "default_app": default,
            }

    def reset_counters(self, request, body):
        state = self.state
        with state.lock:
            state.by_operation.clear()
            state.status_counts.clear()
            state.refreshes_by_shop.clear()
            state.refresh_failures_by_shop.clear()
            state.token_requests.clear()
            state.writes = 0
            state.faults_injected = 0
            for app in state.apps.values():
                app.limiter.reset()
        return {"ok": True}

    def list_violations(self, request, body):
        with self.state.lock:
            rows = list(self.state.violations)
        return {"count": len(rows), "violations": rows}

    def clear_violations(self, request, body):
        with self.state.lock:
            self.state.violations.clear()
        return {"ok": True}

    # -- faults and limits ------------------------------------------------------------------------
    def list_faults(self, request, body):
        return {"faults": self.sandbox.faults.list()}

    def add_fault(self, request, body):
        try:
            rule = validate_rule(body, self.state.config.max_fault_delay_seconds)
        except FaultError as error:
            raise _bad(str(error)) from None
        return 201, self.sandbox.faults.add(rule)

    def clear_faults(self, request, body):
        self.sandbox.faults.clear()
        return {"ok": True}

    def remove_fault(self, request, body, rule_id):
        if not self.sandbox.faults.remove(rule_id):
            raise AdminError(404, f"no fault rule {rule_id}")
        return {"ok": True}

    def get_rate_limits(self, request, body):
        return self.list_apps(request, body)

    def put_rate_limits(self, request, body):
        window = body.get("window")
        if window is not None and window not in ("sliding", "fixed"):
            raise _bad("window must be sliding or fixed")
        with self.state.lock:
            keys = [body["keystring"]] if body.get("keystring") else list(self.state.apps)
            apps = []
            for key in keys:
                app = self.state.apps.get(key)
                if app is None:
                    raise AdminError(404, f"no app {key}")
                apps.append(app)
        for app in apps:
            app.limiter.configure(_opt_int(body, "per_second"), _opt_int(body, "per_day"), window)
            if body.get("reset"):
                app.limiter.reset()
        return {"apps": [self._app_view(a) for a in apps]}

    # -- receipts, listings, images ----------------------------------------------------------------
    def create_receipt(self, request, body, shop_id):
        return 201, receipts_admin.create(self.state, shop_id, body, sandbox=self.sandbox, base_url=_base(request))

    def bulk_receipts(self, request, body, shop_id):
        return 201, receipts_admin.bulk(self.state, shop_id, body, sandbox=self.sandbox, base_url=_base(request))

    def get_receipt(self, request, body, receipt_id):
        return receipts_admin.view(self.state, receipt_id)

    def receipt_action(self, request, body, receipt_id, action):
        return receipts_admin.act(self.state, receipt_id, action, body, sandbox=self.sandbox, base_url=_base(request))

    def freeze_listing(self, request, body, listing_id):
        with self.state.lock:
            listing = self.state.listings.get(listing_id)
            if listing is None:
                raise AdminError(404, f"no listing {listing_id}")
            listing["frozen"] = bool(body.get("frozen", True))
            return {"listing_id": listing_id, "frozen": listing["frozen"]}

    def seed_listings(self, request, body, shop_id):
        rows = body.get("listings")
        if not isinstance(rows, list):
            raise _bad("give {listings: [...]}")
        with self.state.lock:
            if shop_id not in self.state.shops:
                raise AdminError(404, f"no shop {shop_id}")
            try:
                made = [ops_listings.seed(self.state, shop_id, row) for row in rows]
            except (KeyError, TypeError, ValueError) as error:
                raise _bad(f"bad listing: {error}") from None
        return 201, {"listing_ids": made}

    def image(self, request, body, image):
        image_id = image.split(".", 1)[0]
        with self.state.lock:
            record = self.state.images.get(int(image_id)) if image_id.isdigit() else None
        if record is None:
            raise AdminError(404, f"no image {image}")
        mimetype = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}[record["ext"]]
        return Response(record["bytes"], mimetype=mimetype)

    # -- webhooks ------------------------------------------------------------------------------------
    def get_webhooks(self, request, body):
        cfg = self.state.config
        with self.state.lock:
            sent = list(self.state.webhooks_sent)
        return {"url": cfg.webhook_url, "signing_secret": cfg.webhook_signing_secret, "deliveries": sent}

    def put_webhooks(self, request, body):
        changes = {}
        if "url" in body:
            changes["webhook_url"] = body["url"]
        if "signing_secret" in body:
            secret = body["signing_secret"]
            if not webhooks.valid_secret(secret):
                raise _bad("signing_secret must look like whsec_<base64>")
            changes["webhook_signing_secret"] = secret
        self.sandbox.reconfigure(changes)
        return self.get_webhooks(request, body)

    def send_webhook(self, request, body):
        url = body.get("url") or self.state.config.webhook_url
        if not url:
            raise _bad("give url (or set one with PUT /_sandbox/webhooks)")
        shop_id = _opt_int(body, "shop_id")
        with self.state.lock:
            self._shop(shop_id)
        return webhooks.send(self.state, url, shop_id, _opt_int(body, "receipt_id"),
                             body.get("event_type", "ORDER_PAID"), _base(request),
                             secret=body.get("signing_secret"))


def _base(request) -> str:
    return request.host_url.rstrip("/")


def _opt_int(body, name):
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{name} must be an integer")
    return value
