"""One shape for every API error: {"error": code, "detail": text}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from balie.errors import BalieError

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": code, "detail": detail, **extra}, status_code=status, headers=headers)


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"{location or 'body'}: {error.get('msg', 'invalid')}"


def install(app: FastAPI) -> None:
    @app.exception_handler(BalieError)
    async def balie_error(_request: Request, error: BalieError) -> JSONResponse:
        return error_response(error.status, error.code, error.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = list(error.errors())
        if any(item.get("type") == "json_invalid" for item in errors):
            return error_response(400, "invalid_json", "the body is not valid JSON")
        detail = "; ".join(_describe(item) for item in errors[:10])
        fields = [
            {"field": ".".join(str(p) for p in item.get("loc", ())), "problem": item.get("msg", "")}
            for item in errors[:50]
        ]
        return error_response(422, "validation_error", detail, fields=fields)

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def data_error(_request: Request, error: Exception) -> JSONResponse:
        # Last line of defence: the database refused a value that no check above caught.
        return error_response(400, "invalid_value", "a value in the request cannot be stored or looked up")

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "error")
        detail = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
        if error.status_code == 404 and detail == "Not Found":
            detail = "no such endpoint"
        return error_response(error.status_code, code, detail)
