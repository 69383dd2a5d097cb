"""Rendering UI templates into responses, with what every page needs (language, CSRF token,
asset URLs), and the safe-redirect rule for `next` parameters."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from balie.ui.i18n import Language, environment, language_of

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/ui/static"


@functools.cache
def static_url(name: str) -> str:
    """The asset's URL with a content hash, so browsers may cache it and still see changes."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"{STATIC_PREFIX}/{name}?v={digest}"


def language(request: Request) -> Language:
    return language_of(request, request.app.state.context.settings.default_language)


def here(request: Request) -> str:
    """This request's path and query, for `next` links back to it."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(target: str | None, default: str = "/inbox") -> str:
    """Only paths on this site: an attacker's link must not send a fresh login elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(character) < 32 for character in target):
        return default
    return target


def render_text(request: Request, template: str, context: dict[str, Any]) -> str:
    lang = language(request)
    values = {
        "request": request,
        "lang": lang,
        "static_url": static_url,
        "here": here(request),
        "switch_language": lambda code: "/ui/lang/" + code + "?" + urlencode({"next": here(request)}),
        **context,
    }
    return environment(lang.code).get_template(template).render(values)


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(render_text(request, template, context or {}), status_code=status, headers=headers)


def redirect(url: str) -> RedirectResponse:
    # 303: after a POST the browser follows with a GET, so reloading never posts twice.
    return RedirectResponse(url, status_code=303)
