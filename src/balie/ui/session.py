"""Logging in and out, switching shop and language.

Wrong passwords are counted per e-mail address and per client address; after
`login_max_failures` within `login_window_seconds` every further try is refused with
429, the right password too, so guessing gains nothing from a lucky last try. The login
form has no session yet, so it is protected by a double-submit cookie instead.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from balie.agents import service as agent_service
from balie.errors import Forbidden, Unauthorized
from balie.ui import pages
from balie.ui.auth import SESSION_COOKIE, CheckedAgent, clear_cookie, session_token, set_cookie, tokens_match
from balie.ui.i18n import LANGUAGE_COOKIE, LANGUAGES
from balie.ui.routing import UiRoute
from balie.web.deps import DB

LOGIN_CSRF_COOKIE = "balie_login_csrf"
router = APIRouter(route_class=UiRoute, include_in_schema=False)


def _signed_in(request: Request, db: DB) -> bool:
    token = session_token(request)
    return token is not None and agent_service.find_session(db, token) is not None


@router.get("/")
def home(request: Request, db: DB) -> Response:
    return pages.redirect("/inbox" if _signed_in(request, db) else "/login")


def _login_page(request: Request, *, next_url: str, email: str = "", error: str = "",
                status: int = 200) -> Response:
    # Reuse the browser's token if it has one, so two open login tabs both keep working.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or "login_" + secrets.token_urlsafe(24)
    response = pages.render(request, "login.html", {
        "csrf_token": token, "next": next_url, "email": email, "error": error,
    }, status=status)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=None)
    return response


@router.get("/login")
def login_form(request: Request, db: DB, next_url: Annotated[str | None, Query(alias="next")] = None) -> Response:
    if _signed_in(request, db):
        return pages.redirect(pages.safe_next(next_url))
    return _login_page(request, next_url=pages.safe_next(next_url, ""))


def _limit_keys(request: Request, email: str) -> list[str]:
    client = request.client.host if request.client else "unknown"
    return [f"login:email:{email.strip().lower()}", f"login:ip:{client}"]


@router.post("/login")
def login(
    request: Request,
    db: DB,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    lang = pages.language(request)
    if not tokens_match(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(request, next_url=pages.safe_next(next_url, ""), email=email, status=403,
                           error=lang.gettext("This form has expired. Please try again."))
    context = request.app.state.context
    settings = context.settings
    keys = _limit_keys(request, email)
    # Counted before the password is checked, so that attempts made at the same moment
    # cannot all slip under the limit; a successful login gives its count back below.
    attempts = [context.limiter.hit(key, settings.login_window_seconds) for key in keys]
    if any(count > settings.login_max_failures for count in attempts):
        minutes = max(1, settings.login_window_seconds // 60)
        message = lang.ngettext(
            "Too many failed attempts. Wait %(num)d minute and try again.",
            "Too many failed attempts. Wait %(num)d minutes and try again.", minutes)
        return pages.render(request, "error.html", {"status": 429, "message": message}, status=429,
                            headers={"Retry-After": str(settings.login_window_seconds)})
    try:
        agent = agent_service.authenticate(db, email=email, password=password)
    except Unauthorized:
        return _login_page(request, next_url=pages.safe_next(next_url, ""), email=email, status=401,
                           error=lang.gettext("Wrong e-mail address or password."))
    try:
        token, _ = agent_service.start_session(db, agent=agent, days=settings.session_days)
    except Unauthorized:
        return _login_page(request, next_url=pages.safe_next(next_url, ""), email=email, status=403,
                           error=lang.gettext("Your account does not work in any shop yet."))
    db.commit()
    context.limiter.reset(keys[0])
    for key in keys[1:]:
        context.limiter.release(key)
    response = pages.redirect(pages.safe_next(next_url))
    set_cookie(request, response, SESSION_COOKIE, token, max_age=settings.session_days * 24 * 3600)
    clear_cookie(request, response, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, db: DB, signed: CheckedAgent) -> Response:
    agent_service.end_session(db, signed.token)
    db.commit()
    response = pages.redirect("/login")
    clear_cookie(request, response, SESSION_COOKIE)
    return response


@router.post("/ui/shop")
def switch_shop(db: DB, signed: CheckedAgent, shop_id: Annotated[int, Form()]) -> Response:
    try:
        agent_service.actor(db, agent_id=signed.actor.agent_id, shop_id=shop_id)
    except Unauthorized:
        raise Forbidden("you do not work in this shop", code="unauthorized") from None
    agent_service.move_session(db, signed.session_id, shop_id)
    db.commit()
    return pages.redirect("/inbox")


@router.get("/ui/lang/{code}")
def switch_language(
    request: Request, code: str, next_url: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    response = pages.redirect(pages.safe_next(next_url))
    if code in LANGUAGES:
        # Readable by nothing but the server; a year, because it is a preference, not a secret.
        set_cookie(request, response, LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600)
    return response
