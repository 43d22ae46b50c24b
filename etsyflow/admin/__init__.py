"""The administrators' web console: ``etsyflow admin``.

Flask app (:func:`create_app`) served by waitress (:func:`serve`). Modules,
one idea each:

- :mod:`.users` — administrator accounts (Argon2 hashes in Redis);
- :mod:`.sessions` — server-side sessions behind a signed cookie, CSRF tokens, idle timeout;
- :mod:`.throttle` — sign-in attempts limited per user and per address;
- :mod:`.audit` — who did what, when (never secrets);
- :mod:`.recent` — recent events and events per minute, fed by a bus subscriber;
- :mod:`.samples` — queue depth sampled into Redis for the last hour;
- :mod:`.charts` — server-side SVG pictures;
- :mod:`.context` — what the pages share (:class:`~.context.Console`, the sign-in guard);
- :mod:`.app` — the Flask app: sign-in, request checks, security headers;
- :mod:`.pages_shops`, :mod:`.pages_ops`, :mod:`.pages_info` — the pages;
- :mod:`.server` — waitress, in the foreground or in a thread.

Everything it shows comes from :mod:`etsyflow.shops` and the functions behind
``etsyflow status`` and ``etsyflow dlq`` (:mod:`etsyflow.workers`);
the console adds no business logic of its own.
"""

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
