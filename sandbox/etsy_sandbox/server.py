"""Serving a sandbox over HTTP with werkzeug's threaded server, quietly."""

from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (the admin call log has them)."""

    def log_request(self, code="-", size="-"):
        pass


def build_server(sandbox, host: str = "127.0.0.1", port: int = 0):
    """A threaded werkzeug server bound to (host, port); port 0 picks a free one."""
    server = make_server(host, port, sandbox, threaded=True, request_handler=QuietHandler)
    server.daemon_threads = True
    return server
