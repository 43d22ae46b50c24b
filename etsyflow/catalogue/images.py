"""Download a listing image: bounded in time and size, and checked to be an image.

A URL that answers 4xx, is not an image, or is too big is refused for good
(:class:`ImageRefused`: the listing is rejected with that reason). Timeouts,
connection failures and 5xx are retried in the call a couple of times, then
refused too, so a broken image host gives the merchandiser an answer within
seconds instead of an hour of silent retries.

The type check reads the file signature (JPEG, PNG, GIF, WebP: what Etsy
accepts). It is hand-written because it is four byte prefixes; a library
(Pillow, python-magic) would add a native dependency for that.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from ..messages import Refused

#: Largest image etsyflow downloads and uploads (bytes). Etsy recommends far less.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: (connect, read) timeouts of one download, seconds.
TIMEOUT_SECONDS = (5.0, 20.0)
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


def fetch(url: str, *, session: requests.Session | None = None, max_bytes: int = MAX_IMAGE_BYTES,
          timeout=TIMEOUT_SECONDS, attempts: int = ATTEMPTS) -> Image:
    """Download and check one image; raises :class:`ImageRefused` with the reason."""
    session = session or requests.Session()
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            return _fetch_once(session, url, max_bytes, timeout)
        except _Transient as error:
            last = str(error)
            if attempt < attempts:
                time.sleep(BACKOFF_SECONDS * attempt)
    raise ImageRefused(f"image {url} could not be downloaded: {last}")


def _fetch_once(session, url, max_bytes, timeout) -> Image:
    try:
        response = session.get(url, stream=True, timeout=timeout, allow_redirects=True)
    except requests.exceptions.InvalidURL as error:
        raise ImageRefused(f"image URL {url} is not valid: {error}") from None
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as error:
        raise _Transient(type(error).__name__) from None
    except requests.RequestException as error:
        raise ImageRefused(f"image {url} could not be downloaded: {type(error).__name__}") from None
    with response:
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ImageRefused(f"image {url} could not be downloaded: HTTP {response.status_code}")
        declared = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if declared and not (declared.startswith("image/") or declared in ("application/octet-stream",
                                                                           "binary/octet-stream")):
            raise ImageRefused(f"image URL {url} is not an image (the server says {declared})")
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise ImageRefused(f"image {url} is {int(length)} bytes; the limit is {max_bytes}")
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK):
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise ImageRefused(f"image {url} is larger than the limit of {max_bytes} bytes")
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError) as error:
            raise _Transient(type(error).__name__) from None
    data = bytes(body)
    if not data:
        raise ImageRefused(f"image {url} is empty")
    kind = kind_of(data)
    if kind is None:
        raise ImageRefused(f"image URL {url} is not a JPEG, PNG, GIF or WebP image")
    return Image(url=url, data=data, ext=kind[0], content_type=kind[1])
