"""The withdrawal function a shop links to as "Herroepen" (Directive 2011/83/EU art. 11a):
`GET/POST /withdraw/{shop_public_key}`, plain server-rendered HTML in Dutch or English.

Two steps: the customer identifies the order (order number and the e-mail address on it) and
chooses what to withdraw from, then confirms. A wrong combination gets the same neutral
answer as an unknown order, so the page tells nobody which orders exist. The forms carry a
double-submit CSRF token (the customer has no session), and each address may try a limited
number of times (balie.ratelimit)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from balie.channels.chat.service import shop_by_key
from balie.commerce import orders as order_service
from balie.commerce.models import Order
from balie.customers.models import Identity
from balie.customers.service import normalise
from balie.errors import BalieError, Invalid
from balie.returns import calendar, confirmation, service, texts
from balie.returns import settings as return_settings
from balie.returns.models import ReturnCase
from balie.shops.models import Shop
from balie.web.context import Context
from balie.web.deps import Ctx

router = APIRouter(include_in_schema=False)
CSRF_COOKIE = "balie_withdraw_csrf"
WINDOW_SECONDS = 600
POSTS_PER_WINDOW = 30  # per address: a person needs a handful
FAILURES_PER_WINDOW = 10  # wrong order/e-mail combinations per address
MAX_FORM_LINES = 500

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(default=True))


@dataclass(frozen=True)
class PageLine:
    position: int
    sku: str
    name: str
    left: int
    excluded: str | None  # the exception's name when it cannot be withdrawn


def _language(value: str | None) -> str:
    return texts.language((value or "").strip().lower()[:2])


def _render(request: Request, shop: Shop | None, lang: str, step: str, *, status: int = 200,
            **values: Any) -> HTMLResponse:
    token = request.cookies.get(CSRF_COOKIE) or ""
    if not (token.startswith("wd_") and 20 < len(token) < 100):
        token = "wd_" + secrets.token_urlsafe(24)
    html = _env.get_template("withdraw.html").render(
        lang=lang, other_lang="en" if lang == "nl" else "nl", t=texts.PAGE[lang], step=step,
        shop_name=shop.name if shop else "", csrf_token=token, error=values.pop("error", ""),
        order_number=values.pop("order_number", ""), email=values.pop("email", ""), **values)
    response = HTMLResponse(html, status_code=status, headers={
        "Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                   "frame-ancestors 'none'"})
    response.set_cookie(CSRF_COOKIE, token, path="/withdraw", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def _not_found() -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>404</title><p>Not found / Niet gevonden</p>", status_code=404)


@router.get("/withdraw/{public_key}")
def withdraw_form(public_key: str, request: Request, context: Ctx,
                  lang: Annotated[str | None, Query(max_length=8)] = None) -> HTMLResponse:
    with context.factory() as db:
        shop = shop_by_key(db, public_key)
        language = _language(lang) if lang else (shop.language if shop and shop.language in texts.LANGUAGES
                                                 else "nl")
        if shop is None:
            return _not_found()
        return _render(request, shop, language, "identify")


@router.post("/withdraw/{public_key}")
async def withdraw(public_key: str, request: Request, context: Ctx,
                   csrf_token: Annotated[str, Form(max_length=200)] = "",
                   lang: Annotated[str, Form(max_length=8)] = "nl",
                   step: Annotated[str, Form(max_length=16)] = "identify",
                   order_number: Annotated[str, Form(max_length=200)] = "",
                   email: Annotated[str, Form(max_length=400)] = "",
                   reason: Annotated[str, Form(max_length=4000)] = "") -> HTMLResponse:
    form = await request.form()
    quantities: dict[str, str] = {}
    for key, value in form.multi_items():
        if key.startswith("qty_") and isinstance(value, str):
            if len(quantities) >= MAX_FORM_LINES:
                break
            quantities[key[4:]] = value
    return await run_in_threadpool(_withdraw, context, request, public_key, csrf_token, _language(lang), step,
                                   order_number, email, reason, quantities)


def _withdraw(context: Context, request: Request, public_key: str, csrf_token: str, lang: str, step: str,
              order_number: str, email: str, reason: str, quantities: dict[str, str]) -> HTMLResponse:
    t = texts.PAGE[lang]
    with context.factory() as db:
        shop = shop_by_key(db, public_key)
        if shop is None:
            return _not_found()
        address = request.client.host if request.client else "unknown"
        if context.limiter.hit(f"withdraw:post:{address}", WINDOW_SECONDS) > POSTS_PER_WINDOW \
                or context.limiter.count(f"withdraw:fail:{address}") >= FAILURES_PER_WINDOW:
            return _render(request, shop, lang, "identify", status=429, error=t["limited"])
        cookie = request.cookies.get(CSRF_COOKIE)
        if not csrf_token or not cookie or not hmac.compare_digest(csrf_token.encode(), cookie.encode()):
            return _render(request, shop, lang, "identify", status=403, error=t["expired"])
        shown_number = order_number.strip()[:64]
        order = _identify(db, shop.id, order_number, email)
        if order is None:
            context.limiter.hit(f"withdraw:fail:{address}", WINDOW_SECONDS)
            return _render(request, shop, lang, "identify", error=t["not_found"], order_number=shown_number,
                           email=email.strip()[:320])
        common = {"order_number": order.number, "email": email.strip()}
        if step != "confirm":
            return _choose(request, db, shop, order, lang, **common)
        chosen, problem = _chosen(quantities, lang)
        if problem or not chosen:
            return _choose(request, db, shop, order, lang, error=problem or t["nothing"], reason=reason, **common)
        try:
            opened = context.commit_retrying(db, lambda: _open(db, shop.id, order.number, chosen, reason, lang))
        except BalieError as error:
            db.rollback()
            return _choose(request, db, shop, order, lang, error=t["invalid"].format(detail=error.detail),
                           reason=reason, **common)
        zone, _ = calendar.of_shop(db, shop.id, opened.withdrawn_at)
        done = t["done"].format(number=order.number, when=texts.moment(opened.withdrawn_at, zone, lang))
        return _render(request, shop, lang, "done", done=done, order_number=order.number)


def _identify(db: Session, shop_id: int, order_number: str, email: str) -> Order | None:
    """The order, when the number and the e-mail address belong together; else None (whatever
    was wrong: the answer must not tell an unknown order from a wrong address)."""
    number = order_number.strip().lstrip("#")
    if not number or len(number) > 64:
        return None
    try:
        ref = normalise("email", email)
    except Invalid:
        return None
    order = order_service.by_number(db, shop_id, number)
    if order is None or order.customer_id is None:
        return None
    match = db.scalar(select(Identity.id).where(Identity.shop_id == shop_id, Identity.customer_id == order.customer_id,
                                                Identity.kind == "email", Identity.value == ref.value))
    return order if match is not None else None


def _choose(request: Request, db: Session, shop: Shop, order: Order, lang: str, **values: Any) -> HTMLResponse:
    config = return_settings.load(db, shop.id)
    taken = service.withdrawn_before(db, order)
    names = texts.EXCEPTION_NAMES[lang]
    lines = []
    for line in order_service.lines_of(db, order):
        exception = config.exception_for(line.sku)
        lines.append(PageLine(position=line.position, sku=line.sku, name=line.name,
                              left=max(0, line.quantity - taken.get(line.id, 0)),
                              excluded=names[exception] if exception in service.EXCLUDED_AT_ONCE and exception
                              else None))
    if not any(line.left and not line.excluded for line in lines):
        values.setdefault("error", texts.PAGE[lang]["nothing_left"])
    return _render(request, shop, lang, "choose", lines=lines, reason=values.pop("reason", ""), **values)


def _chosen(quantities: dict[str, str], lang: str) -> tuple[list[service.LineRequest], str]:
    chosen = []
    for key, value in quantities.items():
        if not (key.isdigit() and len(key) <= 4 and value.strip().isdigit() and len(value.strip()) <= 7):
            return [], texts.PAGE[lang]["invalid"].format(detail=texts.PAGE[lang]["quantity"])
        quantity = int(value.strip())
        if quantity > 0:
            chosen.append(service.LineRequest(position=int(key), quantity=quantity))
    return chosen, ""


def _open(db: Session, shop_id: int, number: str, chosen: list[service.LineRequest], reason: str,
          lang: str) -> ReturnCase:
    opened = service.open_case(db, shop_id, service.Request(order_number=number, source="withdrawal_page",
                                                            lines=chosen, reason=reason, language=lang))
    if opened.created and opened.case.customer_id is not None:
        confirmation.send(db, opened.case, opened.case.customer_id)
    return opened.case

