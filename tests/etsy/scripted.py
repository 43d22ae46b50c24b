"""A scripted stand-in for Etsy at the HTTP adapter level, for fast unit tests.

It replaces the remote server only: the client, transport, error table and
rate limiter under test run unchanged. Each answer is matched by
(method, path-suffix) or taken in order; every request is recorded.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


@dataclass
class Answer:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    raises: BaseException | None = None


@dataclass
class Sent:
    method: str
    url: str
    headers: dict
    body: bytes | str | None
    timeout: object

    @property
    def path(self) -> str:
        from urllib.parse import urlparse

        return urlparse(self.url).path

    @property
    def query(self) -> dict:
        from urllib.parse import parse_qs, urlparse

        return parse_qs(urlparse(self.url).query)

    def form(self) -> dict:
        from urllib.parse import parse_qs

        body = self.body.decode() if isinstance(self.body, bytes) else (self.body or "")
        return parse_qs(body, keep_blank_values=True)

    def json(self):
        body = self.body.decode() if isinstance(self.body, bytes) else self.body
        return json.loads(body)


class ScriptedEtsy(BaseAdapter):
    def __init__(self):
        super().__init__()
        self.queue: deque[tuple[str | None, Answer]] = deque()
        self.routes: dict[str, Answer] = {}
        self.sent: list[Sent] = []

    def then(self, status=200, body=None, headers=None, *, path: str | None = None, raises=None):
        """Queue one answer (optionally only for a path ending in ``path``)."""
        self.queue.append((path, Answer(status, body, headers or {}, raises)))
        return self

    def always(self, path_suffix: str, status=200, body=None, headers=None):
        """Answer every request whose path ends with ``path_suffix`` (after the queue)."""
        self.routes[path_suffix] = Answer(status, body, headers or {})
        return self

    def calls(self, suffix: str = "") -> list[Sent]:
        return [s for s in self.sent if s.path.endswith(suffix)]

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        sent = Sent(request.method, request.url, dict(request.headers), request.body, timeout)
        self.sent.append(sent)
        answer = None
        for i, (suffix, candidate) in enumerate(self.queue):
            if suffix is None or sent.path.endswith(suffix):
                answer = candidate
                del self.queue[i]
                break
        if answer is None:
            for suffix, candidate in self.routes.items():
                if sent.path.endswith(suffix):
                    answer = candidate
                    break
        if answer is None:
            answer = Answer(404, {"error": f"no scripted answer for {sent.method} {sent.path}"})
        if answer.raises is not None:
            raise answer.raises
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        if answer.body is None:
            response._content = b""
        elif isinstance(answer.body, (str, bytes)):
            response._content = answer.body.encode() if isinstance(answer.body, str) else answer.body
        else:
            response._content = json.dumps(answer.body).encode()
            response.headers.setdefault("Content-Type", "application/json")
        response.url = request.url
        response.request = request
        response.reason = "scripted"
        return response

    def close(self):
        pass


def scripted_session() -> tuple[requests.Session, ScriptedEtsy]:
    session = requests.Session()
    adapter = ScriptedEtsy()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, adapter
