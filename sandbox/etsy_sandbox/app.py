"""The sandbox WSGI application: routing and the per-call pipeline.

Every ``/v3/application`` call goes through, in order: route match → api key
(``x-api-key: KEYSTRING:SHARED_SECRET``) → the app's rate limit → "before"
faults → strict OpenAPI validation → Bearer token, scope and shop ownership →
the operation → "after" faults → (optional) response validation → call log.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import traceback

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import generic, oauth
from .config import SandboxConfig
from .context import Ctx
from .errors import ApiError
from .faults import Faults
from .routes import ROUTES, WRITE_METHODS, handler_for, werkzeug_path
from .spec import DocumentError, document_path, get_checker
from .state import State

log = logging.getLogger("etsy_sandbox")

TOKEN_PATH = "/v3/public/oauth/token"
AUTHORIZE_PATH = "/oauth/connect"
_SECRET_FIELDS = {"code", "code_verifier", "refresh_token", "access_token", "legacy_token", "client_secret",
                  "shared_secret", "oauth_token", "oauth_token_secret"}


class _Dropped(ConnectionAbortedError):
    """Raised after the sandbox closed a connection on purpose (werkzeug stays quiet)."""


class Sandbox:
    """One sandbox: state, faults, routing. A WSGI callable."""

    def __init__(self, config: SandboxConfig | None = None):
        self.state = State(config or SandboxConfig())
        self.faults = Faults()
        self.stopping = threading.Event()
        self._load_checker()
        rules = []
        self.routes = {}
        for operation_id, method, path, scope in ROUTES:
            self.routes[operation_id] = (method, path, scope, handler_for(operation_id))
            rules.append(Rule(werkzeug_path(path), endpoint=operation_id, methods=[method]))
        # Every other operation of Etsy's document: its own handler when the sandbox has one
        # (ops_more), else the generic answer built from the document; scopes as documented.
        for operation_id, (method, path, operation) in self.checker.operations.items():
            if operation_id not in self.routes:
                scopes = [tuple(req.get("oauth2", ())) for req in operation.get("security", []) if "oauth2" in req]
                scope = scopes[0] if scopes and scopes[0] else None
                self.routes[operation_id] = (method, path, scope, handler_for(operation_id) or generic.respond)
                rules.append(Rule(werkzeug_path(path), endpoint=operation_id, methods=[method]))
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)
        from .admin import Admin  # circular: admin drives the sandbox

        self.admin = Admin(self)

    # -- configuration ------------------------------------------------------------
    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    def _load_checker(self) -> None:
        """Load Etsy's document; the sandbox routes every operation it names and checks
        requests with it, so without it the sandbox does not start (DocumentError)."""
        path = document_path(self.state.config.openapi_path)
        try:
            self.checker = get_checker(path)
        except Exception as error:
            raise DocumentError(f"cannot load Etsy's OpenAPI document {path}: {error}") from error

    def reconfigure(self, changes: dict) -> SandboxConfig:
        """Apply ``PUT /_sandbox/config`` changes; rate settings apply to every app."""
        if "openapi_path" in changes and changes["openapi_path"] != self.state.config.openapi_path:
            raise ValueError("openapi_path is read at start only (--openapi)")
        with self.state.lock:
            new = self.state.config.updated(changes)
            self.state.config = new
            if {"rate_per_second", "rate_per_day", "rate_window"} & set(changes):
                for app in self.state.apps.values():
                    app.limiter.configure(new.rate_per_second, new.rate_per_day, new.rate_window)
        return new

    @property
    def strict_active(self) -> bool:
        return bool(self.config.strict)

    # -- WSGI -------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if path.startswith("/v3/application/"):
            response = self._api(request)
        elif path == TOKEN_PATH:
            response = self._token(request)
        elif path.startswith("/_sandbox"):
            response = self.admin.dispatch(request)
        elif path == AUTHORIZE_PATH:
            response = self._authorize(request)
        else:
            response = json_response(404, {"error": f"Not found: {path}"})
        return response(environ, start_response)

    # -- OAuth --------------------------------------------------------------------------
    def _authorize(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            status, headers, body = oauth.authorize(self.state, request.args)
        except ApiError as error:
            status, headers, body = error.status, error.headers, error.body()
        response = json_response(status, body, headers)
        self._log(request, "oauthConnect", status, started, None, summary=None)
        return response

    def _token(self, request: Request) -> Response:
        started = time.perf_counter()
        if request.method != "POST":
            return json_response(405, {"error": "invalid_request", "error_description": "use POST"})
        fault = self.faults.pick("oauthToken", "before")
        fault_name = None
        try:
            if fault is not None:
                fault_name = f"{fault['when']}:{fault['kind']}"
                early = self._apply_fault(request, fault, None)
                if early is not None:
                    self._log(request, "oauthToken", early.status_code, started, fault_name, summary=self._summary(request))
                    return early
            fields = request.form
            if (request.mimetype or "").endswith("json"):
                try:
                    payload = json.loads(request.get_data(cache=True) or b"{}")
                except ValueError:
                    raise ApiError(400, "invalid_request", description="the request body is not valid JSON") from None
                if not isinstance(payload, dict):
                    raise ApiError(400, "invalid_request", description="the request body must be a JSON object")
                fields = {k: (v if isinstance(v, str) or v is None else str(v)) for k, v in payload.items()}
            body = oauth.token_endpoint(self.state, fields, request.content_type)
            status = 200
        except _Dropped:
            self._log(request, "oauthToken", 0, started, fault_name, summary=self._summary(request))
            raise
        except ApiError as error:
            status, body = error.status, error.body()
        response = json_response(status, body, {"Cache-Control": "no-store"})
        if status == 200:
            fault = self.faults.pick("oauthToken", "after")
            if fault is not None:
                fault_name = f"after:{fault['kind']}"
                response = self._apply_fault(request, fault, response) or response
        self._log(request, "oauthToken", response.status_code, started, fault_name, summary=self._summary(request))
        return response

    # -- the API pipeline ---------------------------------------------------------------------
    def _check_key(self, request: Request):
        raw = request.headers.get("x-api-key")
        if not raw:
            raise ApiError(403, "Missing x-api-key header: send x-api-key: KEYSTRING:SHARED_SECRET")
        keystring, sep, secret = raw.partition(":")
        with self.state.lock:
            app = self.state.apps.get(keystring)
        if app is None:
            raise ApiError(403, "Invalid API key")
        if not sep:
            raise ApiError(403, "Shared secret is required in x-api-key header.", extra={"_app": app})
        if secret != app.shared_secret:
            raise ApiError(403, "Invalid API key: the shared secret does not match", extra={"_app": app})
        return app

    def _api(self, request: Request) -> Response:
        started = time.perf_counter()
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            operation_id, params = adapter.match()
        except NotFound:
            response = json_response(404, {"error": f"Resource not found: {request.method} {request.path}"})
            self._log(request, None, 404, started, None)
            return response
        except MethodNotAllowed:
            response = json_response(405, {"error": f"Method {request.method} not allowed on {request.path}"})
            self._log(request, None, 405, started, None)
            return response
        method, _path, scope, handler = self.routes[operation_id]
        ctx = Ctx(self, request, operation_id, params)
        headers: dict = {}
        fault_name = None
        shop_param = params.get("shop_id")
        shop_id = int(shop_param) if shop_param and shop_param.isdigit() else None
        status, body = 500, None
        try:
            try:
                app = self._check_key(request)
            except ApiError as error:
                known = error.extra.pop("_app", None)
                if known is not None:
                    headers.update(known.limiter.snapshot().headers())
                raise
            ctx.app = app
            decision = app.limiter.acquire()
            headers.update(decision.headers())
            if not decision.allowed:
                message = "Exceeded per second rate limit" if decision.reason == "second" else "Exceeded daily rate limit"
                raise ApiError(429, message)
            fault = self.faults.pick(operation_id, "before", shop_id)
            if fault is not None:
                fault_name = f"before:{fault['kind']}"
                with self.state.lock:
                    self.state.faults_injected += 1
                early = self._apply_fault(request, fault, None, headers)
                if early is not None:
                    self._log(request, operation_id, early.status_code, started, fault_name, shop_id)
                    return early
            if self.config.strict:
                rejection = self.checker.check_request(operation_id, request.method, request.path, request.args,
                                                       request.headers, request.get_data(cache=True),
                                                       request.content_type, form=request.form,
                                                       files=request.files)
                if rejection is not None:
                    self._violation("request", operation_id, request, rejection.detail)
                    raise ApiError(400, rejection.text)
            if scope is not None:
                self._authorize_call(ctx, scope, params)
            result = handler(ctx)
            status, body = result[0], result[1]
            if len(result) > 2:
                headers.update(result[2])
        except _Dropped:
            self._log(request, operation_id, 0, started, fault_name, shop_id)
            raise
        except ApiError as error:
            status, body = error.status, error.body()
            headers.update(error.headers)
        except Exception as error:  # a sandbox bug must answer, not kill the connection
            log.error("sandbox handler failed: %s\n%s", error, traceback.format_exc())
            status, body = 500, {"error": f"sandbox internal error in {operation_id}: {error}"}
        response = json_response(status, body, headers)
        if 200 <= status < 300:
            if method in WRITE_METHODS:
                with self.state.lock:
                    self.state.writes += 1
            fault = self.faults.pick(operation_id, "after", shop_id)
            if fault is not None:
                fault_name = f"after:{fault['kind']}"
                with self.state.lock:
                    self.state.faults_injected += 1
                try:
                    response = self._apply_fault(request, fault, response, headers) or response
                except _Dropped:
                    self._log(request, operation_id, 0, started, fault_name, shop_id)
                    raise
        if self.config.check_responses and operation_id in self.checker.operations:
            reason = self.checker.check_response(
                request.method, request.path, request.args, request.headers, request.get_data(cache=True),
                request.content_type, response.status_code, response.get_data(), response.mimetype,
                response.headers)
            if reason is not None:
                self._violation("response", operation_id, request, f"{response.status_code}: {reason}")
        self._log(request, operation_id, response.status_code, started, fault_name, shop_id)
        return response

    def _authorize_call(self, ctx: Ctx, scope: str, params: dict) -> None:
        token = oauth.authenticate(self.state, ctx.request.headers.get("Authorization"), ctx.app.keystring)
        needed = (scope,) if isinstance(scope, str) else tuple(scope or ())
        lacking = [name for name in needed if name and name not in token["scopes"]]
        if lacking:
            raise ApiError(403, "insufficient_scope", description=f"this request needs the {' '.join(lacking)} scope")
        ctx.token = token
        with self.state.lock:
            if "shop_id" in params:
                shop = ctx.shop()
                if shop["user_id"] != token["user_id"]:
                    raise ApiError(403, f"The access token's user does not own shop {shop['shop_id']}")
            elif "listing_id" in params:
                listing = ctx.listing()
                if listing["user_id"] != token["user_id"]:
                    raise ApiError(403, f"The access token's user does not own listing {listing['listing_id']}")

    # -- faults ----------------------------------------------------------------------------------
    def _apply_fault(self, request: Request, fault: dict, response: Response | None, headers=None):
        """Carry out a fault. Returns the response to send, or None to go on normally."""
        delay = fault["delay_seconds"]
        if delay:
            self.stopping.wait(delay)
        if fault["kind"] == "drop":
            sock = request.environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raise _Dropped("sandbox fault: connection dropped")
        if fault["status"] is not None:
            merged = dict(headers or {})
            merged.update(fault["headers"])
            return json_response(fault["status"], fault["body"], merged)
        return response

    # -- observability -------------------------------------------------------------------------
    def _violation(self, kind, operation_id, request, reason):
        with self.state.lock:
            self.state.violations.append({"time": time.time(), "kind": kind, "operation_id": operation_id,
                                          "method": request.method, "path": request.path, "reason": reason})

    def _summary(self, request: Request):
        """What a request carried, with secrets left out (never tokens, codes or keys)."""
        try:
            mimetype = request.mimetype or ""
            if mimetype.endswith("json"):
                payload = json.loads(request.get_data(cache=True) or b"null")
                if isinstance(payload, dict):
                    return {k: ("[redacted]" if k in _SECRET_FIELDS else _short(v)) for k, v in payload.items()}
                return _short(payload)
            if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                out = {k: ("[redacted]" if k in _SECRET_FIELDS else _short(v if len(vs) == 1 else vs))
                       for k, vs in request.form.lists() for v in vs[:1]}
                for name, upload in request.files.items():
                    upload.stream.seek(0, 2)
                    out[name] = {"filename": upload.filename, "bytes": upload.stream.tell()}
                    upload.stream.seek(0)
                return out or None
        except Exception:  # a summary never breaks a call
            return None
        return None

    def _log(self, request, operation_id, status, started, fault, shop_id=None, summary="auto"):
        if summary == "auto":
            summary = self._summary(request) if request.method in WRITE_METHODS else None
        entry = {"time": time.time(), "method": request.method, "path": request.path,
                 "query": _safe_query(request.args), "operation_id": operation_id, "status": status,
                 "duration_ms": round((time.perf_counter() - started) * 1000, 2), "shop_id": shop_id,
                 "fault": fault, "body": summary}
        with self.state.lock:
            entry["seq"] = self.state.next_id("call")
            self.state.calls.append(entry)
            self.state.by_operation[operation_id or "unknown"] += 1
            self.state.status_counts[str(status)] += 1


def _short(value, limit=200):
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _safe_query(args):
    if not args:
        return None
    return {k: ("[redacted]" if k in _SECRET_FIELDS else (v if len(v) > 1 else v[0])) for k, v in args.lists()}


def json_response(status: int, body, headers: dict | None = None) -> Response:
    if status == 204 or body is None:
        response = Response(status=status)
    else:
        response = Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def create_app(config: SandboxConfig | None = None, **overrides) -> Sandbox:
    """A sandbox WSGI app; ``overrides`` are :class:`SandboxConfig` fields."""
    config = config or SandboxConfig()
    if overrides:
        config = config.updated(overrides)
    return Sandbox(config)
