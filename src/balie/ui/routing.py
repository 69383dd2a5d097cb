"""How every UI route answers: errors as pages (or JSON for the page's own fetch calls),
a missing login as a redirect, and the security headers on every response.

The API's error handlers answer JSON for the whole app; a UI route catches what its
handler raises before those handlers see it, so an agent never looks at raw JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from balie.errors import BalieError
from balie.ui import pages
from balie.ui.i18n import Language

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
ASYNC_HEADER = "x-balie-async"


class LoginRequired(Exception):
    """No valid session cookie: pages redirect to the login, fetch calls get 401."""


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token."""


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


# Service error codes an agent can run into from the UI, in words they understand.
EXPLAINED = {
    "empty_message": N_("The message is empty."),
    "text_too_large": N_("The message is too long."),
    "invalid_snooze": N_("Pick a moment in the future to snooze until."),
    "invalid_follow_up": N_("Pick a moment in the future, at most two years ahead, to follow up."),
    "invalid_note": N_("Write what to check when the follow-up comes due, in at most 2000 characters."),
    "follow_up_exists": N_("This conversation already has a follow-up at that moment."),
    "too_many_follow_ups": N_("This conversation has as many follow-ups waiting as it can have."),
    "already_done": N_("That follow-up has already come due."),
    "invalid_tag": N_("A tag is at most 64 characters, and a conversation has at most 20 tags."),
    "invalid_status": N_("That status does not exist."),
    "invalid_priority": N_("That priority does not exist."),
    "invalid_filter": N_("That filter does not exist."),
    "invalid_cursor": N_("That page of the list no longer exists. Start from the top."),
    "not_found": N_("This page does not exist, or it belongs to another shop."),
    "forbidden": N_("You may not do that."),
    "unauthorized": N_("You do not work in this shop."),
    "admin_only": N_("Only the shop's admins can change its settings."),
    "csrf": N_("This form has expired. Reload the page and try again."),
    "invalid_form": N_("Some fields were missing or not filled in correctly."),
}


def explain(language: Language, code: str, fallback: str = "") -> str:
    if code in EXPLAINED:
        return language.gettext(EXPLAINED[code])
    return fallback or language.gettext("Something went wrong. Please try again.")


def is_async(request: Request) -> bool:
    """The page's own JavaScript asks: answer with data, not with a page or a redirect."""
    return request.headers.get(ASYNC_HEADER) == "1" or request.url.path.startswith(("/ui/partials", "/ui/events"))


def error_response(request: Request, status: int, code: str, fallback: str = "") -> Response:
    lang = pages.language(request)
    message = explain(lang, code, fallback)
    if is_async(request):
        return JSONResponse({"error": code, "detail": message}, status_code=status)
    return pages.render(request, "error.html", {"status": status, "message": message}, status=status)


def login_redirect(request: Request) -> Response:
    if is_async(request):
        return JSONResponse({"error": "login_required", "detail": "log in again"}, status_code=401)
    target = pages.here(request) if request.method == "GET" else "/inbox"
    query = "" if target == "/inbox" else "?" + urlencode({"next": target})
    return pages.redirect("/login" + query)


def secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    # Pages hold customers' personal data: never keep them in a shared or back/forward cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class UiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                response = login_redirect(request)
            except CsrfRejected:
                response = error_response(request, 403, "csrf")
            except BalieError as error:
                response = error_response(request, error.status, error.code, error.detail)
            except RequestValidationError as error:
                # /inbox/c/abc is a page that does not exist, not a form filled in wrongly.
                in_path = all(item.get("loc", ("",))[0] == "path" for item in error.errors())
                response = error_response(request, 404, "not_found") if in_path else error_response(
                    request, 400, "invalid_form")
            return secure(response)

        return guarded
