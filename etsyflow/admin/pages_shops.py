"""The Shops page: shops and their state, connect (OAuth 2.0 with PKCE, the callback),
tokens by hand and legacy tokens, per-shop switches, disconnect. Every action calls
:mod:`etsyflow.shops`."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlparse

from flask import abort, flash, g, redirect, render_template, request, url_for

from ..catalogue.records import last_listing_sync
from ..etsy.errors import EtsyError
from ..etsy.ratelimit import RateLimiter
from ..shops import (SETTINGS, ConnectError, DecryptError, SecretKeyMissing, ShopNotFound, check_shop_id, complete,
                     connect, import_legacy, import_tokens)
from ..workers import parked_count
from .context import signed_in

CALLBACK_PATH = "/etsy/callback"
_CONNECT_KEY = "etsyflow:admin:connect:"  # sha256(state) → who started the connection, 10 minutes

SETTING_LABELS = {
    "update_shipping_templates": "Update shipping templates",
    "send_bcc": "Copy the seller on shipping e-mails",
}


def register(app, console) -> None:
    settings, redis = console.settings, console.redis
    store, act = console.store, console.act

    @app.get("/shops")
    @signed_in
    def shops():
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
        return imported(import_tokens, request.form.get("shop_id"), request.form.get("access_token"),
                        request.form.get("refresh_token"), "tokens imported", "token import failed")

    @app.post("/shops/import-legacy")
    @signed_in
    def import_legacy_shop():
        return imported(import_legacy, request.form.get("shop_id"), request.form.get("oauth_token"),
                        request.form.get("oauth_token_secret"), "legacy tokens exchanged",
                        "legacy token exchange failed")

    @app.post("/shops/<int:shop_id>/settings")
    @signed_in
    def shop_settings(shop_id):
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
