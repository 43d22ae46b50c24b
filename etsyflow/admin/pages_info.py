"""Read-only pages: the app's settings (secrets as set / not set) and the audit log."""

from __future__ import annotations

from flask import render_template

from ..etsy.ratelimit import RateLimiter
from . import audit
from .context import signed_in, without_password


def register(app, console) -> None:
    settings, redis = console.settings, console.redis

    @app.get("/settings")
    @signed_in
    def app_settings():
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
                ("Console idle timeout", f"{console.sessions.idle_seconds // 60} min"),
            ]),
        ]
        return render_template("settings.html", title="App settings", groups=groups)

    @app.get("/audit")
    @signed_in
    def audit_log():
        return render_template("audit.html", title="Audit log", entries=audit.recent(redis, 300),
                               admins=console.users.list())
