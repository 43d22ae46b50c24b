"""The console's Flask app: configuration, sign-in and sign-out, and what every request goes
through (session, CSRF check, security headers, the last check for secrets). The pages are in
:mod:`.pages_shops`, :mod:`.pages_ops` and :mod:`.pages_info`. Every page but sign-in,
``/healthz`` and the OAuth callback needs a signed-in administrator; every form carries a CSRF token.

=========================================  ============================================================
``GET  /healthz``                          200 ``{"status": "ok"}`` (load balancers)
``GET|POST /signin``, ``POST /signout``    sign in (rate-limited) and out
``GET  /shops``                            shops, their state and settings; connect and import forms
``POST /shops/connect``                    start OAuth 2.0 (PKCE): 303 to Etsy's authorize page
``GET  /etsy/callback``                    where Etsy sends the seller back (``ETSY_REDIRECT_URI``)
``POST /shops/complete``                   finish with a pasted redirect URL (redirect URI elsewhere)
``POST /shops/import``, ``/import-legacy`` tokens entered by hand, OAuth 1.0a tokens
``POST /shops/<id>/settings``              per-shop switches
``GET|POST /shops/<id>/disconnect``        confirm, then erase the shop's tokens
``GET  /operations``                       queues, dead letters, parked work, events, charts
``GET  /operations/events.json``           the live tail (newest first, filterable)
``GET  /operations/dead/<id>``             one dead letter
``POST /operations/dead/replay``           replay selected dead letters
``GET|POST /operations/dead/purge``        confirm, then purge selected dead letters
``GET  /settings``                         the app's configuration, secrets as set / not set
``GET  /audit``                            who did what
=========================================  ============================================================
"""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Flask, flash, g, jsonify, redirect, render_template, request, session, url_for

from .. import ATTRIBUTION, __version__
from ..config import get_settings
from ..config.logging import get_logger
from ..state import get_redis
from ..workers import replay_on_reconnect
from . import audit, pages_info, pages_ops, pages_shops
from .context import Console, ago, is_loopback, when
from .sessions import IDLE_SECONDS, Sessions, cookie_key, new_csrf_token, same_token
from .throttle import SignInThrottle
from .users import AdminUsers

log = get_logger("etsyflow.admin")


def create_app(settings=None, *, redis=None, host: str = "127.0.0.1", idle_seconds: int = IDLE_SECONDS,
               throttle: SignInThrottle | None = None, behind_tls_proxy: bool = False) -> Flask:
    """The console. ``host`` is the address it is served on: cookies are ``Secure`` unless it is
    loopback — or always, ``behind_tls_proxy`` (a TLS proxy in front on the same host)."""
    settings = settings or get_settings()
    if not settings.secret_key:
        raise ValueError("SECRET_KEY is not set: the console signs its cookies and encrypts tokens with it")
    if redis is None:
        redis = get_redis()
    replay_on_reconnect()  # a shop (re)connected here gets its parked work back on the queues
    app = Flask("etsyflow.admin", root_path=__file__.rsplit("/", 1)[0])
    app.secret_key = cookie_key(settings.secret_key)
    app.config.update(
        SESSION_COOKIE_NAME="etsyflow_admin",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax: the cookie comes along when Etsy sends the administrator back to the callback (a top-level
        # GET); state-changing requests are POSTs and carry a CSRF token anyway.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=behind_tls_proxy or not is_loopback(host),
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    users = AdminUsers(redis)
    sessions = Sessions(redis, idle_seconds=idle_seconds)
    throttle = throttle or SignInThrottle(redis)
    console = Console(settings, redis, users, sessions, throttle)
    authorize_origin = "{0.scheme}://{0.netloc}".format(urlparse(settings.etsy_authorize_url))
    # Values that must never leave the console, whatever a page is given to show.
    never_shown = [s.encode() for s in (settings.secret_key, settings.etsy_shared_secret,
                                        settings.webhook_signing_secret) if s and len(s) >= 8]

    # -- request plumbing -----------------------------------------------------------------
    @app.context_processor
    def common():
        return {"attribution": ATTRIBUTION, "version": __version__, "user": g.get("user"),
                "csrf_token": session.get("csrf"), "when": when, "ago": ago}

    @app.before_request
    def load_user():
        if request.path == "/healthz" or request.path.startswith("/static/"):
            g.user = None
            return None
        g.user = sessions.touch(session.get("sid"), activity=request.endpoint != "events_json")
        if "csrf" not in session:
            session["csrf"] = new_csrf_token()
        if request.method == "POST" and not same_token(session.get("csrf"), request.form.get("csrf_token")):
            log.warning("admin_csrf_refused", path=request.path, address=request.remote_addr)
            return render_template("error.html", title="Form expired",
                                   message="This form is out of date or did not come from this console "
                                           "(CSRF check failed). Reload the page and try again."), 400
        return None

    @app.after_request
    def headers(response):
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"form-action 'self' {authorize_origin}; frame-ancestors 'none'; base-uri 'none'")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"  # the callback URL holds an authorization code
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        if never_shown and not response.direct_passthrough:
            body = response.get_data()
            if any(secret in body for secret in never_shown):
                log.error("admin_secret_in_response_blocked", path=request.path)
                response.set_data(b"refused: this answer would have shown a secret")
                response.status_code = 500
                response.mimetype = "text/plain"
        return response

    def safe_next(target: str | None) -> str:
        if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
            return target.rstrip("?")
        return url_for("shops")

    # -- health, sign in/out ----------------------------------------------------------------
    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.get("/")
    def index():
        return redirect(url_for("shops" if g.user else "signin"))

    @app.route("/signin", methods=["GET", "POST"])
    def signin():
        if request.method == "GET":
            if g.user:
                return redirect(url_for("shops"))
            return render_template("signin.html", title="Sign in", next=request.args.get("next", ""),
                                   no_users=not users.names())
        name = (request.form.get("username") or "").strip()[:64]
        password = request.form.get("password") or ""
        address = request.remote_addr or "-"
        wait = throttle.blocked_for(name, address)
        if wait:
            audit.record(redis, name or "-", "sign-in refused", f"too many failed attempts; {wait} s left",
                         address=address)
            return render_template("signin.html", title="Sign in", next=request.form.get("next", ""),
                                   error=f"Too many failed sign-in attempts. Try again in {wait // 60 + 1} "
                                         "minute(s).", username=name), 429
        if not users.verify(name, password):
            throttle.failed(name, address)
            audit.record(redis, name or "-", "sign-in failed", "wrong user name or password", address=address)
            return render_template("signin.html", title="Sign in", next=request.form.get("next", ""),
                                   error="Wrong user name or password.", username=name), 401
        throttle.succeeded(name)
        sessions.close(session.get("sid"))
        session.clear()  # a new session id and a new CSRF token at sign-in (no fixation)
        session["sid"] = sessions.open(name)
        session["csrf"] = new_csrf_token()
        audit.record(redis, name, "signed in", "", address=address)
        return redirect(safe_next(request.form.get("next")), code=303)

    @app.post("/signout")
    def signout():
        if g.user:
            console.act("signed out")
        sessions.close(session.get("sid"))
        session.clear()
        flash("Signed out.")
        return redirect(url_for("signin"), code=303)

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("error.html", title="Not found", message="There is no such page or item."), 404

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("error.html", title="Too large", message="That form was too large."), 413

    pages_shops.register(app, console)
    pages_ops.register(app, console)
    pages_info.register(app, console)
    return app
