"""Serving the console with waitress (the project's WSGI server).

:class:`ConsoleServer` wraps ``waitress.create_server`` so the console can run
in the foreground (``etsyflow admin``, stops on SIGTERM/SIGINT) or in a thread
(tests), and stop promptly either way.
"""

from __future__ import annotations

import signal
import threading

import waitress

from ..config.logging import get_logger

log = get_logger("etsyflow.admin")

#: Worker threads answering requests.
THREADS = 4
#: How long stopping waits for requests in progress (seconds).
STOP_SECONDS = 5.0


class ConsoleServer:
    def __init__(self, app, host: str = "127.0.0.1", port: int = 8080, *, threads: int = THREADS,
                 trusted_proxy: str | None = None):
        """``trusted_proxy``: the address of a reverse proxy (TLS) in front; its ``X-Forwarded-For``
        and ``X-Forwarded-Proto`` are then believed, so sign-in limits see the client's address."""
        proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_count": 1,
                 "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
                 "clear_untrusted_proxy_headers": True} if trusted_proxy else {}
        self.server = waitress.create_server(app, host=host, port=port, threads=threads, ident="etsyflow-admin",
                                             channel_timeout=60, cleanup_interval=10, **proxy)
        self.host, self.port = self.server.effective_host, int(self.server.effective_port)
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in str(self.host) else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve until :meth:`stop` (or SystemExit/KeyboardInterrupt in this thread)."""
        try:
            self.server.run()
        finally:
            self._stopped.set()

    def start(self) -> "ConsoleServer":
        self._thread = threading.Thread(target=self.run, name=f"etsyflow-admin-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Close every socket (the listener and open connections) and end the worker threads."""
        # waitress's loop runs while its socket map is not empty: closing everything in it ends the loop.
        for _ in range(10):
            channels = list(self.server._map.values())
            if not channels:
                break
            for channel in channels:
                try:
                    channel.handle_close()
                except Exception:  # already closed
                    pass
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout)


def serve(app, host: str = "127.0.0.1", port: int = 8080, *, on_start=None,
          trusted_proxy: str | None = None) -> None:
    """Serve ``app`` in the foreground until SIGTERM or SIGINT."""
    server = ConsoleServer(app, host, port, trusted_proxy=trusted_proxy)

    def _stop(signum, _frame):
        log.info("admin_console_stopping", signal=signum)
        raise SystemExit(0)  # waitress ends its loop and its threads on SystemExit

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("admin_console_listening", url=server.url)
    if on_start is not None:
        on_start(server)
    server.run()
