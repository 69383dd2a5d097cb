"""One error hierarchy; the web layer renders it as {"error": code, "detail": text}."""

from __future__ import annotations


class BalieError(Exception):
    code = "error"
    status = 400

    def __init__(self, detail: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class NotFound(BalieError):
    code = "not_found"
    status = 404


class Invalid(BalieError):
    code = "invalid"
    status = 400


class Conflict(BalieError):
    code = "conflict"
    status = 409


class Unauthorized(BalieError):
    code = "unauthorized"
    status = 401


class Forbidden(BalieError):
    code = "forbidden"
    status = 403


class TooLarge(BalieError):
    code = "too_large"
    status = 413


class RateLimited(BalieError):
    code = "rate_limited"
    status = 429
