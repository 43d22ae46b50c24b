"""The console's pages (Flask). Every page but sign-in, ``/healthz`` and the OAuth
callback needs a signed-in administrator; every form carries a CSRF token.

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

import functools
import hashlib
import ipaddress
import json
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse, urlsplit, urlunsplit

from flask import Flask, abort, flash, g, jsonify, redirect, render_template, request, session, url_for

from .. import ATTRIBUTION, __version__
from ..config.logging import get_logger, redact
from . import audit, charts, recent, samples
from .sessions import IDLE_SECONDS, Sessions, cookie_key, new_csrf_token, same_token
from .throttle import SignInThrottle
from .users import AdminUsers

log = get_logger("etsyflow.admin")

CALLBACK_PATH = "/etsy/callback"
_CONNECT_KEY = "etsyflow:admin:connect:"  # sha256(state) → who started the connection, 10 minutes


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def without_password(url: str | None) -> str | None:
    """``url`` with any password in it replaced by ``***`` (user names kept)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def when(epoch: float | None) -> str:
    if not epoch:
        return "never"
    return datetime.fromtimestamp(float(epoch), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(epoch: float | None, now: float | None = None) -> str:
    if not epoch:
        return ""
    delta = float(epoch) - (time.time() if now is None else now)
    seconds = abs(delta)
    if seconds < 90:
        text = f"{seconds:.0f} s"
    elif seconds < 5400:
        text = f"{seconds / 60:.0f} min"
    elif seconds < 172800:
        text = f"{seconds / 3600:.1f} h"
    else:
        text = f"{seconds / 86400:.1f} d"
    return f"in {text}" if delta >= 0 else f"{text} ago"


def create_app(settings=None, *, redis=None, host: str = "127.0.0.1", idle_seconds: int = IDLE_SECONDS,
               throttle: SignInThrottle | None = None) -> Flask:
    """The console. ``host`` is the address it is served on: cookies are ``Secure`` unless it is loopback."""
    from ..config import get_settings

    settings = settings or get_settings()
    if not settings.secret_key:
        raise ValueError("SECRET_KEY is not set: the console signs its cookies and encrypts tokens with it")
    if redis is None:
        from ..state import get_redis

        redis = get_redis()
    app = Flask("etsyflow.admin", root_path=__file__.rsplit("/", 1)[0])
    app.secret_key = cookie_key(settings.secret_key)
    app.config.update(
        SESSION_COOKIE_NAME="etsyflow_admin",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax: the cookie comes along when Etsy sends the administrator back to the callback (a top-level
        # GET); state-changing requests are POSTs and carry a CSRF token anyway.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not is_loopback(host),
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    users = AdminUsers(redis)
    sessions = Sessions(redis, idle_seconds=idle_seconds)
    throttle = throttle or SignInThrottle(redis)
    authorize_origin = "{0.scheme}://{0.netloc}".format(urlparse(settings.etsy_authorize_url))
    # Values that must never leave the console, whatever a page is given to show.
    never_shown = [s.encode() for s in (settings.secret_key, settings.etsy_shared_secret,
                                        settings.webhook_signing_secret) if s and len(s) >= 8]

    def store():
        from ..shops import ShopStore

        return ShopStore(redis, settings)

    def dead_letters():
        from ..ops import DeadLetterQueue

        return DeadLetterQueue(settings, state=redis)

    def act(action: str, detail: str = "", who: str | None = None) -> None:
        audit.record(redis, who or g.get("user"), action, detail, address=request.remote_addr)

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

    def signed_in(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if g.user is None:
                if session.get("sid"):
                    session.pop("sid", None)
                    flash("Your session ended (idle for too long, or signed out elsewhere). Sign in again.")
                if request.path.endswith(".json"):
                    return jsonify({"error": "sign in first"}), 401
                wanted = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(url_for("signin", next=wanted))
            return view(*args, **kwargs)
        return wrapper

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
            act("signed out")
        sessions.close(session.get("sid"))
        session.clear()
        flash("Signed out.")
        return redirect(url_for("signin"), code=303)

    # -- shops --------------------------------------------------------------------------------
    @app.get("/shops")
    @signed_in
    def shops():
        from ..catalogue.records import last_listing_sync
        from ..etsy.ratelimit import RateLimiter
        from ..workers import parked_count

        listed = store().list_shops()
        usage = RateLimiter(redis, settings).used_today_by_shop()
        rows = []
        for shop in listed:
            parked = parked_count(shop.shop_id)
            if shop.token_status == "ok":
                status = ("parked work", "warn") if parked else ("ok", "ok")
            elif shop.token_status == "disconnected":
                status = ("disconnected", "bad")
            else:
                status = ("auth failed", "bad")
            rows.append({"shop": shop, "status": status[0], "status_class": status[1], "parked": parked,
                         "last_listing_sync": last_listing_sync(redis, shop.shop_id),
                         "calls_today": usage.get(shop.shop_id, 0)})
        redirect_uri = settings.etsy_redirect_uri or ""
        return render_template("shops.html", title="Shops", rows=rows, redirect_uri=redirect_uri,
                               callback_here=urlparse(redirect_uri).path.rstrip("/") == CALLBACK_PATH,
                               setting_labels=SETTING_LABELS)

    def connect_error(error: Exception, status: int = 400):
        return render_template("connected.html", title="Shop not connected", ok=False, message=str(error)), status

    def start_connect(shop_id_raw, action: str):
        from ..shops import ConnectError, SecretKeyMissing, check_shop_id, connect

        try:
            shop_id = check_shop_id(shop_id_raw)
            link = connect(shop_id, store=store())
        except (ConnectError, SecretKeyMissing, ValueError) as error:
            act(f"{action} failed", f"shop {shop_id_raw!s:.20}: {error}")
            return connect_error(error)
        state = (parse_qs(urlparse(link.url).query).get("state") or [""])[0]
        if state:
            redis.set(_CONNECT_KEY + hashlib.sha256(state.encode()).hexdigest(), g.user, ex=link.expires_in)
        act(f"{action} started", f"shop {shop_id}: sent to Etsy's authorize page")
        return redirect(link.url, code=303)

    @app.post("/shops/connect")
    @signed_in
    def connect_shop():
        return start_connect(request.form.get("shop_id"), "connect")

    @app.post("/shops/<int:shop_id>/reconnect")
    @signed_in
    def reconnect_shop(shop_id):
        return start_connect(shop_id, "reconnect")

    def finish(redirect_url: str, who: str | None):
        from ..etsy.errors import EtsyError
        from ..shops import ConnectError, DecryptError, SecretKeyMissing, complete

        try:
            shop = complete(redirect_url, store=store())
        except (ConnectError, SecretKeyMissing, DecryptError, EtsyError, ValueError) as error:
            act("connect failed", str(error), who=who)
            return connect_error(error)
        act("shop connected", f"shop {shop.shop_id} ({shop.shop_name or 'no name'})", who=who)
        return render_template("connected.html", title="Shop connected", ok=True, shop=shop)

    @app.get(CALLBACK_PATH)
    def etsy_callback():
        state = request.args.get("state") or ""
        started_by = redis.get(_CONNECT_KEY + hashlib.sha256(state.encode()).hexdigest()) if state else None
        who = started_by.decode() if started_by else (g.user or "seller via callback")
        return finish(request.url, who)

    @app.post("/shops/complete")
    @signed_in
    def complete_shop():
        return finish(request.form.get("redirect_url") or "", g.user)

    def imported(func, shop_id_raw, first, second, what: str, failed: str):
        from ..etsy.errors import EtsyError
        from ..shops import ConnectError, SecretKeyMissing, check_shop_id

        try:
            shop_id = check_shop_id(shop_id_raw)
            shop = func(shop_id, first, second, store=store())
        except (ConnectError, SecretKeyMissing, EtsyError, ValueError) as error:
            act(failed, f"shop {shop_id_raw!s:.20}: {error}")
            flash(f"Not imported: {error}", "error")
            return redirect(url_for("shops"), code=303)
        act(what, f"shop {shop.shop_id} ({shop.shop_name or 'no name'})")
        flash(f"Shop {shop.shop_id}" + (f" ({shop.shop_name})" if shop.shop_name else "") + " is connected.")
        return redirect(url_for("shops"), code=303)

    @app.post("/shops/import")
    @signed_in
    def import_shop():
        from ..shops import import_tokens

        return imported(import_tokens, request.form.get("shop_id"), request.form.get("access_token"),
                        request.form.get("refresh_token"), "tokens imported", "token import failed")

    @app.post("/shops/import-legacy")
    @signed_in
    def import_legacy_shop():
        from ..shops import import_legacy

        return imported(import_legacy, request.form.get("shop_id"), request.form.get("oauth_token"),
                        request.form.get("oauth_token_secret"), "legacy tokens exchanged",
                        "legacy token exchange failed")

    @app.post("/shops/<int:shop_id>/settings")
    @signed_in
    def shop_settings(shop_id):
        from ..shops import SETTINGS, ShopNotFound

        shops_store = store()
        try:
            before = shops_store.require(shop_id).settings
        except ShopNotFound:
            abort(404)
        changed = []
        for name in SETTINGS:
            value = request.form.get(name) == "on"
            if before.get(name) != value:
                shops_store.set_setting(shop_id, name, value)
                changed.append(f"{name}={'on' if value else 'off'}")
        if changed:
            act("shop settings changed", f"shop {shop_id}: {', '.join(changed)}")
            flash(f"Shop {shop_id}: " + ", ".join(
                f"{SETTING_LABELS[c.split('=')[0]]} {c.split('=')[1]}" for c in changed) + ".")
        else:
            flash(f"Shop {shop_id}: nothing changed.")
        return redirect(url_for("shops") + f"#shop-{shop_id}", code=303)

    @app.route("/shops/<int:shop_id>/disconnect", methods=["GET", "POST"])
    @signed_in
    def disconnect_shop(shop_id):
        from ..shops import ShopNotFound

        shops_store = store()
        try:
            shop = shops_store.require(shop_id)
        except ShopNotFound:
            abort(404)
        if request.method == "GET" or request.form.get("confirm") != "yes":
            return render_template("confirm.html", title=f"Disconnect shop {shop_id}?",
                                   message=f"Disconnect shop {shop_id}" + (f" ({shop.shop_name})" if shop.shop_name
                                                                           else "")
                                   + "? Its Etsy tokens are erased; work for it waits (parked) until it is "
                                     "reconnected.", action=url_for("disconnect_shop", shop_id=shop_id),
                                   fields={}, button="Disconnect and erase tokens", back=url_for("shops"))
        shops_store.disconnect(shop_id)
        act("shop disconnected", f"shop {shop_id}: tokens erased")
        flash(f"Shop {shop_id} disconnected; its tokens are erased.")
        return redirect(url_for("shops"), code=303)

    # -- operations ----------------------------------------------------------------------------
    @app.get("/operations")
    @signed_in
    def operations():
        from ..etsy.ratelimit import RateLimiter
        from ..ops.queues import queue_counts
        from ..workers import parked_count

        problems = []
        try:
            queues = [q.as_dict() for q in queue_counts(settings)]
        except Exception as error:
            queues, problems = [], problems + [f"queues: {redact(None, None, {'t': str(error)})['t']}"]
        try:
            letters = dead_letters().list() if any(q["dead"] for q in queues) else []
        except Exception as error:
            letters, problems = [], problems + [f"dead letters: {redact(None, None, {'t': str(error)})['t']}"]
        parked = [{"shop_id": s.shop_id, "shop_name": s.shop_name, "count": parked_count(s.shop_id)}
                  for s in store().list_shops()]
        quota = RateLimiter(redis, settings).status()
        now = time.time()
        minutes = recent.per_minute(redis, 60, now=now)
        events_chart = charts.line_chart(
            {"in": [(t, i) for t, i, _ in minutes], "out": [(t, o) for t, _, o in minutes]},
            start=now - 3600, end=now, title="Events per minute", unit="events/min")
        depth_points: dict[str, list] = {}
        for sample in samples.last_hour(redis, now=now):
            for queue, value in sorted(sample["depth"].items()):
                depth_points.setdefault(queue, []).append((sample["t"], value))
        depth_chart = charts.line_chart(depth_points, start=now - 3600, end=now, title="Queue depth",
                                        unit="messages")
        type_filter = request.args.get("type", "")
        shop_filter = request.args.get("shop", "")
        return render_template(
            "operations.html", title="Operations", queues=queues, letters=letters, parked=parked,
            quota=quota, problems=problems,
            quota_chart=charts.quota_gauge(quota["used_today"], quota["effective_per_day"]),
            events_chart=events_chart, depth_chart=depth_chart,
            events=recent.latest(redis, event_type=type_filter or None, shop_id=shop_filter or None, limit=50),
            event_types=recent.types_seen(redis), type_filter=type_filter, shop_filter=shop_filter)

    @app.get("/operations/events.json")
    @signed_in
    def events_json():
        items = recent.latest(redis, event_type=request.args.get("type") or None,
                              shop_id=request.args.get("shop") or None, after=request.args.get("after") or None,
                              limit=50)
        return jsonify({"events": items})

    @app.get("/operations/dead/<message_id>")
    @signed_in
    def dead_letter(message_id):
        from ..ops import UnknownMessage

        try:
            letter = dead_letters().get(message_id)
        except UnknownMessage:
            abort(404)
        full = letter.as_dict(full=True)
        envelope = json.dumps(redact(None, None, {"e": full["envelope"]})["e"], indent=2, sort_keys=True,
                              default=str)
        traceback = redact(None, None, {"t": full["traceback"] or ""})["t"]
        return render_template("dead_letter.html", title=f"Dead letter {letter.message_id}", letter=letter,
                               envelope=envelope, traceback="\n".join(traceback.rstrip().splitlines()[-20:]))

    def selection_from_form():
        from ..ops import Selection

        ids = tuple(i for i in request.form.getlist("message_id") if i)
        if not ids:
            return None
        return Selection(message_ids=ids)

    @app.post("/operations/dead/replay")
    @signed_in
    def replay_dead():
        from ..ops import UnknownMessage

        selection = selection_from_form()
        if selection is None:
            flash("Choose at least one dead letter to replay.", "error")
            return redirect(url_for("operations") + "#dead-letters", code=303)
        try:
            done = dead_letters().replay(selection)
        except UnknownMessage as error:
            flash(str(error), "error")
            return redirect(url_for("operations") + "#dead-letters", code=303)
        act("dead letters replayed", ", ".join(f"{d.message_id} ({d.actor})" for d in done))
        flash(f"{len(done)} message(s) replayed.")
        return redirect(url_for("operations") + "#dead-letters", code=303)

    @app.route("/operations/dead/purge", methods=["POST"])
    @signed_in
    def purge_dead():
        from ..ops import UnknownMessage

        selection = selection_from_form()
        if selection is None:
            flash("Choose at least one dead letter to purge.", "error")
            return redirect(url_for("operations") + "#dead-letters", code=303)
        if request.form.get("confirm") != "yes":
            return render_template("confirm.html", title="Purge dead letters?",
                                   message=f"Delete {len(selection.message_ids)} dead-lettered message(s) for "
                                           "good? They cannot be replayed afterwards.",
                                   action=url_for("purge_dead"),
                                   fields={"message_id": list(selection.message_ids)},
                                   button="Purge for good", back=url_for("operations") + "#dead-letters")
        try:
            done = dead_letters().purge(selection)
        except UnknownMessage as error:
            flash(str(error), "error")
            return redirect(url_for("operations") + "#dead-letters", code=303)
        act("dead letters purged", ", ".join(f"{d.message_id} ({d.actor})" for d in done))
        flash(f"{len(done)} message(s) purged.")
        return redirect(url_for("operations") + "#dead-letters", code=303)

    # -- settings, audit -----------------------------------------------------------------------
    @app.get("/settings")
    @signed_in
    def app_settings():
        from ..etsy.ratelimit import RateLimiter

        per_second, per_day = RateLimiter(redis, settings).effective_limits()
        groups = [
            ("Etsy", [
                ("API URL (ETSY_API_URL)", settings.etsy_api_url),
                ("Authorize page (ETSY_AUTHORIZE_URL)", without_password(settings.etsy_authorize_url)),
                ("Token endpoint", settings.token_url),
                ("Redirect URI (ETSY_REDIRECT_URI)", settings.etsy_redirect_uri or "not set"),
                ("Keystring (ETSY_KEYSTRING)", "set" if settings.etsy_keystring else "not set"),
                ("Shared secret (ETSY_SHARED_SECRET)", "set" if settings.etsy_shared_secret else "not set"),
                ("Scopes asked for", settings.etsy_scopes),
                ("Call timeout", f"{settings.etsy_timeout_seconds:g} s"),
            ]),
            ("Rate limits", [
                ("Calls per second (ETSY_RATE_PER_SECOND)", f"{settings.etsy_rate_per_second} configured, "
                                                            f"{per_second} in force"),
                ("Calls per rolling day (ETSY_RATE_PER_DAY)", f"{settings.etsy_rate_per_day} configured, "
                                                              f"{per_day} in force"),
            ]),
            ("Brokers and state", [
                ("State (REDIS_URL)", without_password(settings.redis_url) or "not set (embedded, in memory)"),
                ("Work queues (BROKER_URL)", without_password(settings.broker_url) or
                 f"not set: {without_password(settings.effective_broker_url) or 'embedded'}"),
                ("Event bus (EVENTS_URL)", without_password(settings.events_url) or
                 f"not set: {without_password(settings.effective_events_url)}"),
            ]),
            ("Secrets", [
                ("SECRET_KEY", "set" if settings.secret_key else "not set"),
                ("WEBHOOK_SIGNING_SECRET", "set" if settings.webhook_signing_secret else "not set"),
            ]),
            ("Schedules", [
                ("Order poll interval (POLL_INTERVAL_SECONDS)", f"{settings.poll_interval_seconds:g} s"),
                ("Reconcile interval (RECONCILE_INTERVAL_SECONDS)", f"{settings.reconcile_interval_seconds:g} s"),
                ("Metrics port (METRICS_PORT)", str(settings.metrics_port or "not set")),
                ("Console idle timeout", f"{sessions.idle_seconds // 60} min"),
            ]),
        ]
        return render_template("settings.html", title="App settings", groups=groups)

    @app.get("/audit")
    @signed_in
    def audit_log():
        return render_template("audit.html", title="Audit log", entries=audit.recent(redis, 300),
                               admins=users.list())

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("error.html", title="Not found", message="There is no such page or item."), 404

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("error.html", title="Too large", message="That form was too large."), 413

    return app


SETTING_LABELS = {
    "update_shipping_templates": "Update shipping templates",
    "send_bcc": "Copy the seller on shipping e-mails",
}
