"""What every page of the console shares: its Redis, settings, accounts and sessions
(:class:`Console`), the ``signed_in`` guard, the audit helper, and how times and URLs are shown."""

from __future__ import annotations

import functools
import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

from flask import flash, g, jsonify, redirect, request, session, url_for

from ..shops import ShopStore
from ..workers.deadletters import DeadLetterQueue
from . import audit
from .sessions import Sessions
from .throttle import SignInThrottle
from .users import AdminUsers


@dataclass
class Console:
    settings: object
    redis: object
    users: AdminUsers
    sessions: Sessions
    throttle: SignInThrottle

    def store(self):
        return ShopStore(self.redis, self.settings)

    def dead_letters(self):
        return DeadLetterQueue(self.settings, state=self.redis)

    def act(self, action: str, detail: str = "", who: str | None = None) -> None:
        """Record an administrator action in the audit log (who defaults to the signed-in user)."""
        audit.record(self.redis, who or g.get("user"), action, detail, address=request.remote_addr)


def signed_in(view):
    """Pages for signed-in administrators: others go to sign-in (JSON answers 401)."""
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
