"""Settings pages for the chat widget and opening hours (shop admins only): which sites may
embed the widget, the contacts and call-back promise it shows, the embed snippet and the
secret; and per channel, per weekday, the opening hours in the shop's time zone.

As on the other settings pages: plain forms with the CSRF token, every wrong field explained
beside it, and nothing stored from a form that has one wrong field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from balie.channels.chat import settings as widget_settings
from balie.channels.chat.settings import SettingsInvalid, WidgetChanges
from balie.errors import Forbidden, Invalid
from balie.hours import service as hours_service
from balie.hours.schedule import Interval
from balie.shops import service as shop_service
from balie.ui import pages
from balie.ui.auth import Agent, CheckedAgent, Signed
from balie.ui.i18n import Language
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute
from balie.web.deps import DB

router = APIRouter(route_class=UiRoute, include_in_schema=False)
WIDGET = "/settings/widget"
HOURS = "/settings/hours"

NOTICES = {"saved": N_("Changes saved."), "rotated": N_("New secret made. Put it in your shop's server settings.")}
WIDGET_MESSAGES = {
    "invalid_origin": N_("Enter one site a line, such as https://www.yourshop.nl (no path)."),
    "too_many_origins": N_("At most 50 sites."),
    "invalid_phone": N_("Enter a phone number, such as 020 123 4567 or +32 3 123 45 67."),
    "invalid_email": N_("Enter an e-mail address such as help@yourshop.nl."),
    "invalid_number": N_("Enter a whole number in the range shown."),
}
HOURS_MESSAGES = {
    "unreadable_hours": N_("Write times as 09:00-12:00; several separated by commas."),
    "hours_out_of_range": N_("Times lie between 00:00 and 24:00."),
    "hours_reversed": N_("A time range must end after it starts. For a night, end at 24:00 and go on "
                         "from 00:00 the next day."),
    "hours_overlap": N_("These time ranges overlap."),
    "invalid_time_zone": N_("Enter a time zone such as Europe/Amsterdam."),
}
CHANNEL_LABELS = {"chat": N_("Chat"), "phone": N_("Phone"), "email": N_("E-mail"), "whatsapp": N_("WhatsApp"),
                  "callback": N_("Call-backs")}
CHANNEL_HINTS = {
    "chat": N_("When agents answer the chat. Outside these hours the widget offers to leave a message."),
    "phone": N_("When customers can call the number shown in the widget."),
    "email": N_("When e-mail is answered. Without hours the widget says how long an answer usually takes."),
    "whatsapp": N_("When WhatsApp messages are answered."),
    "callback": N_("When the shop calls customers back; the call-back promise counts from these hours."),
}
WEEKDAY_LABELS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
                  N_("Sunday"))
WIDGET_FIELDS = ("allowed_origins", "phone", "whatsapp", "email", "callback_minutes", "callback_attempts")
MAX_FIELD = 4000


async def posted(request: Request) -> dict[str, str]:
    """The posted text fields (parsed once; the CSRF check reads the same form), each cut to
    a length no real value reaches."""
    form = await request.form()
    return {name: value[:MAX_FIELD] for name, value in form.items() if isinstance(value, str)}


Posted = Annotated[dict[str, str], Depends(posted)]


def _admin(signed: Signed) -> None:
    if not signed.actor.is_admin:
        raise Forbidden("only a shop admin can change its settings", code="admin_only")


def _render(request: Request, db: Session, signed: Signed, template: str, page: str, context: dict[str, Any], *,
            status: int = 200) -> Response:
    values = {**chrome(db, signed), "query": ListQuery(), "settings_page": page,
              "notice": NOTICES.get(request.query_params.get("notice") or ""), **context}
    return pages.render(request, template, values, status=status)


# --- the widget -------------------------------------------------------------------------------


def _widget_page(request: Request, db: Session, signed: Signed, *, form: dict[str, Any] | None = None,
                 errors: dict[str, str] | None = None, status: int = 200) -> Response:
    widget = widget_settings.get_or_create(db, signed.actor.shop_id)
    shop = shop_service.get(db, signed.actor.shop_id)
    if form is None:
        form = {"enabled": widget.enabled, "allowed_origins": widget.allowed_origins, "phone": widget.phone,
                "whatsapp": widget.whatsapp, "email": widget.email,
                "callback_minutes": str(widget.callback_minutes), "callback_attempts": str(widget.callback_attempts)}
    host = str(request.base_url).rstrip("/")
    return _render(request, db, signed, "settings_widget.html", "widget", {
        "form": form, "errors": errors or {}, "secret": widget.secret, "public_key": shop.public_key,
        "snippet": f'<script src="{host}/widget.js" data-shop="{shop.public_key}" async></script>',
        "callback_range": widget_settings.CALLBACK_MINUTES, "attempts_range": widget_settings.CALLBACK_ATTEMPTS,
    }, status=status)


@router.get(WIDGET)
def widget_page(request: Request, db: DB, signed: Agent) -> Response:
    _admin(signed)
    response = _widget_page(request, db, signed)
    db.commit()  # a shop without widget settings gets its row (and secret) the first time
    return response


@router.post(WIDGET)
def save_widget(request: Request, db: DB, signed: CheckedAgent, form: Posted) -> Response:
    _admin(signed)
    values = {name: form.get(name, "") for name in WIDGET_FIELDS}
    enabled = form.get("enabled") == "on"
    lang = pages.language(request)
    shop = shop_service.get(db, signed.actor.shop_id)
    try:
        widget_settings.update(db, signed.actor.shop_id, WidgetChanges(enabled=enabled, **values),
                               time_zone=shop.time_zone)
    except SettingsInvalid as invalid:
        db.rollback()
        errors: dict[str, str] = {}
        for problem in invalid.problems:
            errors.setdefault(problem.field, lang.gettext(WIDGET_MESSAGES.get(problem.code, problem.detail)))
        return _widget_page(request, db, signed, form={**values, "enabled": enabled}, errors=errors, status=400)
    db.commit()
    return pages.redirect(f"{WIDGET}?notice=saved")


@router.post(WIDGET + "/secret")
def rotate_secret(db: DB, signed: CheckedAgent) -> Response:
    _admin(signed)
    widget_settings.rotate_secret(db, signed.actor.shop_id)
    db.commit()
    return pages.redirect(f"{WIDGET}?notice=rotated")


# --- opening hours ----------------------------------------------------------------------------


def _field(channel: str, weekday: int) -> str:
    return f"{channel}_{weekday}"


def _hours_page(request: Request, db: Session, signed: Signed, *, form: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    shop = shop_service.get(db, signed.actor.shop_id)
    if form is None:
        weeks = hours_service.load_all(db, shop.id, shop=shop)
        form = {"time_zone": shop.time_zone}
        for channel, week in weeks.items():
            for weekday in range(7):
                form[_field(channel, weekday)] = hours_service.describe_day(week.on(weekday))
    return _render(request, db, signed, "settings_hours.html", "hours", {
        "form": form, "errors": errors or {}, "channels": hours_service.HOURS_CHANNELS,
        "channel_labels": CHANNEL_LABELS, "channel_hints": CHANNEL_HINTS, "weekday_labels": WEEKDAY_LABELS,
    }, status=status)


@router.get(HOURS)
def hours_page(request: Request, db: DB, signed: Agent) -> Response:
    _admin(signed)
    return _hours_page(request, db, signed)


def _read_week(form: dict[str, str], channel: str, lang: Language, errors: dict[str, str]) -> list[Interval]:
    intervals: list[Interval] = []
    for weekday in range(7):
        name = _field(channel, weekday)
        try:
            day = hours_service.parse_day(weekday, form[name])
            hours_service.validate(day)  # reversed or overlapping ranges, named on this day's field
        except Invalid as error:
            errors[name] = lang.gettext(HOURS_MESSAGES.get(error.code, error.detail))
            continue
        intervals.extend(day)
    return intervals


@router.post(HOURS)
def save_hours(request: Request, db: DB, signed: CheckedAgent, posted_form: Posted) -> Response:
    _admin(signed)
    lang = pages.language(request)
    names = ["time_zone"] + [_field(c, d) for c in hours_service.HOURS_CHANNELS for d in range(7)]
    form = {name: posted_form.get(name, "") for name in names}
    errors: dict[str, str] = {}
    try:
        hours_service.zone(form["time_zone"])
    except Invalid as error:
        errors["time_zone"] = lang.gettext(HOURS_MESSAGES.get(error.code, error.detail))
    weeks = {channel: _read_week(form, channel, lang, errors) for channel in hours_service.HOURS_CHANNELS}
    if errors:
        return _hours_page(request, db, signed, form=form, errors=errors, status=400)
    shop = shop_service.get(db, signed.actor.shop_id)
    hours_service.set_time_zone(db, shop, form["time_zone"])
    for channel, intervals in weeks.items():
        hours_service.replace(db, shop.id, channel, intervals)
    db.commit()
    return pages.redirect(f"{HOURS}?notice=saved")
