"""Etsy-style error answers raised by handlers."""

from __future__ import annotations


class ApiError(Exception):
    """An answer ``{"error": message}`` with ``status`` (and optional extra fields/headers)."""

    def __init__(self, status: int, error: str, *, description: str | None = None,
                 headers: dict | None = None, extra: dict | None = None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict:
        body = {"error": self.error}
        if self.description is not None:
            body["error_description"] = self.description
        body.update(self.extra)
        return body


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, message)


def conflict(message: str, **kw) -> ApiError:
    return ApiError(409, message, **kw)
