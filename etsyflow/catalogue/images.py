"""Download a listing image: bounded in time and size, checked to be an image,
and never from an internal address.

A URL that answers 4xx, is not an image, or is too big is refused for good
(:class:`ImageRefused`: the listing is rejected with that reason). Timeouts,
connection failures and 5xx are retried in the call a couple of times, then
refused too, so a broken image host gives the merchandiser an answer within
seconds instead of an hour of silent retries.

Server-side request forgery: an image URL comes from upstream, and what it
points at is downloaded and published on Etsy. So, before every connection
(the first and each redirect, followed by hand, at most :data:`MAX_REDIRECTS`):

- only ``http``/``https``, no user name or password in the URL;
- the host is resolved (also decimal, octal and hex IPv4 forms such as
  ``2130706433``) and every address must be public: loopback, private,
  link-local (169.254.0.0/16: cloud metadata), shared, multicast, reserved and
  unspecified addresses are refused, IPv4 and IPv6 (IPv4-mapped, 6to4 and
  Teredo addresses are judged by the IPv4 address inside), unless the address
  is in ``IMAGE_ALLOWED_NETWORKS``;
- the connection goes to the address that was checked (the TLS name and the
  ``Host`` header stay the URL's), so a second DNS answer cannot point it
  elsewhere;
- one overall deadline (:data:`DEADLINE_SECONDS`) bounds the whole fetch,
  whatever the server's pace: the socket is shut when it passes.

Reasons stay generic ("could not be downloaded", "is not an image"): no
content types, ports or connection errors of internal hosts reach an event.

The type check reads the file signature (JPEG, PNG, GIF, WebP: what Etsy
accepts). It is hand-written because it is four byte prefixes; a library
(Pillow, python-magic) would add a native dependency for that.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..messages import Refused

#: Largest image etsyflow downloads and uploads (bytes). Etsy recommends far less.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: (connect, read) timeouts of one download, seconds.
TIMEOUT_SECONDS = (5.0, 20.0)
#: Everything one image may take (every attempt and redirect), seconds.
DEADLINE_SECONDS = 30.0
#: Redirects followed per image, each checked like the first URL.
MAX_REDIRECTS = 5
#: Downloads per URL before giving up (transient failures only).
ATTEMPTS = 2
BACKOFF_SECONDS = 0.5
_CHUNK = 64 * 1024

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
)


class ImageRefused(Refused):
    """The image cannot be used (the listing is refused); ``reason`` is for a merchandiser."""


@dataclass(frozen=True)
class Image:
    url: str
    data: bytes
    ext: str
    content_type: str

    @property
    def filename(self) -> str:
        return f"image.{self.ext}"


def kind_of(data: bytes) -> tuple[str, str] | None:
    """(extension, MIME type) from the file signature, or None when it is not an image Etsy takes."""
    for prefix, ext, mime in _SIGNATURES:
        if data.startswith(prefix):
            return ext, mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    return None


class _Transient(Exception):
    pass


_NOT_ALLOWED = "its address is not allowed (image URLs must point at public hosts)"


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            return _public(inner)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified
                                 or ip.is_loopback or ip.is_link_local or ip.is_private)


def allowed_address(address: str, allowed_networks=()) -> bool:
    """True when an image may be fetched from ``address`` (an IP address string)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if any(ip.version == net.version and ip in net for net in allowed_networks):
        return True
    return _public(ip)


#: Longest wait for the system resolver, seconds (it has no timeout of its own).
RESOLVE_TIMEOUT_SECONDS = 5.0


def _lookup(host: str, port: int, timeout: float) -> list:
    """``getaddrinfo`` bounded in time: run in a daemon thread that is left to finish
    on its own when it takes too long (the standard library has no resolver timeout)."""
    result: dict = {}

    def run():
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            result["error"] = error

    thread = threading.Thread(target=run, name="etsyflow-resolve", daemon=True)
    thread.start()
    thread.join(max(0.0, timeout))
    if "infos" not in result:
        raise _Transient("name not resolved")
    return result["infos"]


def resolve(url: str, allowed_networks=(), timeout: float = RESOLVE_TIMEOUT_SECONDS) -> tuple[str, int, str]:
    """Check ``url`` and resolve its host: (host, port, the one address to connect to).
    Raises :class:`ImageRefused` (generic reason) or :class:`_Transient` (DNS failure)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ImageRefused(f"image URL {_shown(url)} is not valid") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageRefused(f"image URL {_shown(url)} is not an http(s) URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ImageRefused("an image URL must not carry a user name or password")
    port = port or (443 if parts.scheme == "https" else 80)
    infos = _lookup(parts.hostname, port, timeout)
    addresses = [info[4][0] for info in infos]
    if not addresses or not all(allowed_address(a, allowed_networks) for a in addresses):
        raise ImageRefused(f"image {_shown(url)} could not be downloaded: {_NOT_ALLOWED}")
    return parts.hostname, port, addresses[0]


def _shown(url: str) -> str:
    """The URL as quoted in a reason: without any user info, at most 300 characters."""
    try:
        parts = urlsplit(url)
        if "@" in parts.netloc:
            url = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
    except ValueError:
        pass
    return url if len(url) <= 300 else url[:299] + "…"


class _PinnedAdapter(HTTPAdapter):
    """A requests adapter whose connections go to one checked address.

    urllib3 connects to ``_dns_host`` and names ``host`` in TLS (SNI, certificate
    check) and the ``Host`` header; pinning ``_dns_host`` keeps both right. The
    sockets it opens are kept so that the deadline can shut them. Written by hand:
    requests has no option to connect to a given address."""

    def __init__(self, address: str, sockets: list):
        self._address, self._sockets = address, sockets
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        address, sockets = self._address, self._sockets

        def pinned(base):
            class Pinned(base):
                def _new_conn(self):
                    self._dns_host = address
                    sock = super()._new_conn()
                    sockets.append(sock)
                    return sock
            return Pinned

        class Pool(HTTPConnectionPool):
            ConnectionCls = pinned(HTTPConnection)

        class TLSPool(HTTPSConnectionPool):
            ConnectionCls = pinned(HTTPSConnection)

        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}


class _Deadline:
    """Shuts every socket of a fetch when its time is up (a blocked read returns)."""

    def __init__(self, seconds: float):
        self.ends = time.monotonic() + seconds
        self.sockets: list = []
        self.passed = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()

    def _expire(self):
        self.passed = True
        for sock in list(self.sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def left(self) -> float:
        return self.ends - time.monotonic()


def fetch(url: str, *, session: requests.Session | None = None, max_bytes: int = MAX_IMAGE_BYTES,
          timeout=TIMEOUT_SECONDS, attempts: int = ATTEMPTS, deadline: float = DEADLINE_SECONDS,
          allowed_networks=None) -> Image:
    """Download and check one image; raises :class:`ImageRefused` with the reason.

    ``allowed_networks`` defaults to ``IMAGE_ALLOWED_NETWORKS``; ``session`` is
    accepted for compatibility and not used (each connection is pinned).
    """
    if allowed_networks is None:
        from ..config import get_settings

        allowed_networks = get_settings().image_allowed_networks
    last = ""
    with _Deadline(deadline) as clock:
        for attempt in range(1, attempts + 1):
            try:
                return _fetch_redirects(url, clock, max_bytes, timeout, allowed_networks)
            except _Transient as error:
                last = str(error)
                if clock.passed or clock.left() <= 0:
                    break
                if attempt < attempts:
                    time.sleep(min(BACKOFF_SECONDS * attempt, max(0.0, clock.left())))
    if clock.passed:
        last = f"took longer than {deadline:g} s"
    raise ImageRefused(f"image {_shown(url)} could not be downloaded: {last}")


def _fetch_redirects(url, clock, max_bytes, timeout, allowed_networks) -> Image:
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        _host, _port, address = resolve(current, allowed_networks,
                                        timeout=min(RESOLVE_TIMEOUT_SECONDS, max(0.0, clock.left())))
        with requests.Session() as session:
            session.trust_env = False  # no proxy from the environment: it would bypass the checks
            adapter = _PinnedAdapter(address, clock.sockets)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            outcome = _fetch_once(session, current, url, max_bytes, timeout, clock)
        if isinstance(outcome, Image):
            return outcome
        current = urljoin(current, outcome)
    raise ImageRefused(f"image {_shown(url)} could not be downloaded: more than {MAX_REDIRECTS} redirects")


def _fetch_once(session, current, url, max_bytes, timeout, clock) -> "Image | str":
    """One hop: the image, or the redirect target (a string)."""
    try:
        response = session.get(current, stream=True, timeout=timeout, allow_redirects=False)
    except requests.exceptions.InvalidURL:
        raise ImageRefused(f"image URL {_shown(url)} is not valid") from None
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError):
        raise _Transient("no answer in time" if clock.passed else "the host did not answer") from None
    except requests.RequestException:
        raise ImageRefused(f"image {_shown(url)} could not be downloaded") from None
    with response:
        if response.status_code in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if not location:
                raise ImageRefused(f"image {_shown(url)} could not be downloaded: a redirect without a target")
            return location
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ImageRefused(f"image {_shown(url)} could not be downloaded: HTTP {response.status_code}")
        if not 200 <= response.status_code < 300:
            raise ImageRefused(f"image {_shown(url)} could not be downloaded: HTTP {response.status_code}")
        declared = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if declared and not (declared.startswith("image/") or declared in ("application/octet-stream",
                                                                           "binary/octet-stream")):
            raise ImageRefused(f"image URL {_shown(url)} is not an image")
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise ImageRefused(f"image {_shown(url)} is larger than the limit of {max_bytes} bytes")
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK):
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise ImageRefused(f"image {_shown(url)} is larger than the limit of {max_bytes} bytes")
                if clock.left() <= 0:
                    raise _Transient("no answer in time")
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError, OSError):
            raise _Transient("no answer in time" if clock.passed else "the download broke off") from None
        if clock.passed:
            raise _Transient("no answer in time")
    data = bytes(body)
    if not data:
        raise ImageRefused(f"image {_shown(url)} is empty")
    kind = kind_of(data)
    if kind is None:
        raise ImageRefused(f"image URL {_shown(url)} is not a JPEG, PNG, GIF or WebP image")
    return Image(url=url, data=data, ext=kind[0], content_type=kind[1])
