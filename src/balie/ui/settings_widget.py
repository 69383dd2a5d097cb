"""Settings pages for the chat widget and opening hours (shop admins only): which sites may
embed the widget, the contacts and call-back promise it shows, the embed snippet and the
secret; per channel, per weekday, the opening hours in the shop's time zone; and the shop's
calendar: whose public holidays it keeps, its closures and extra openings.

As on the other settings pages: plain forms with the CSRF token, every wrong field explained
beside it, and nothing stored from a form that has one wrong field.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from balie import clock
from balie.channels.chat import settings as widget_settings
from balie.channels.chat.settings import SettingsInvalid, WidgetChanges
from balie.errors import Invalid
from balie.hours import service as hours_service
from balie.hours.schedule import Interval
from balie.shops import service as shop_service
from balie.shops.models import Shop
from balie.ui import pages
from balie.ui.auth import Agent, CheckedAgent, Signed, require_admin
from balie.ui.i18n import Language
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute
from balie.web.deps import DB

router = APIRouter(route_class=UiRoute, include_in_schema=False)
WIDGET = "/settings/widget"
HOURS = "/settings/hours"

NOTICES = {"saved": N_("Changes saved."), "rotated": N_("New secret made. Put it in your shop's server settings."),
           "day_added": N_("Day added."), "day_removed": N_("Day removed.")}
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
# The dated-day form: each problem goes beside the field it is about.
DAY_MESSAGES = {
    "invalid_date": ("day", N_("Enter a date such as 2026-12-24.")),
    "day_in_past": ("day", N_("This date has passed.")),
    "day_too_far": ("day", N_("Choose a date at most two years ahead.")),
    "invalid_channel": ("channel", N_("Choose a channel from the list.")),
    "invalid_time": ("times", N_("Write times as 09:00.")),
    "hours_incomplete": ("times", N_("Enter both times for an opening.")),
    "hours_out_of_range": ("times", N_("Times lie between 00:00 and 24:00.")),
    "hours_reversed": ("times", N_("The opening must end after it starts.")),
    "hours_overlap": ("times", N_("This opening overlaps another one on that date.")),
    "day_conflict": ("times", N_("That date already has a closure or openings for this channel; remove "
                                 "them first.")),
    "note_too_long": ("note", N_("A note has at most 200 characters.")),
}
HOLIDAY_CHOICES = (("NL", N_("The Netherlands")), ("BE", N_("Belgium")), ("", N_("None")))
DAY_FIELDS = ("day", "channel", "kind", "opens", "closes", "note")
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
# Longer than any field these pages take (the promise messages' 5000 characters), so that a
# value too long is still too long when its service checks it: cutting it to a length the
# service accepts would store a text the admin never wrote. The body limit bounds the rest.
MAX_FIELD = 10_000


async def posted(request: Request) -> dict[str, str]:
    """The posted text fields (parsed once; the CSRF check reads the same form), each cut to
    a length no accepted value reaches."""
    form = await request.form()
    return {name: value[:MAX_FIELD] for name, value in form.items() if isinstance(value, str)}


Posted = Annotated[dict[str, str], Depends(posted)]



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
    require_admin(signed)
    response = _widget_page(request, db, signed)
    db.commit()  # a shop without widget settings gets its row (and secret) the first time
    return response


@router.post(WIDGET)
def save_widget(request: Request, db: DB, signed: CheckedAgent, form: Posted) -> Response:
    require_admin(signed)
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
    require_admin(signed)
    widget_settings.rotate_secret(db, signed.actor.shop_id)
    db.commit()
    return pages.redirect(f"{WIDGET}?notice=rotated")


# --- opening hours ----------------------------------------------------------------------------


def _field(channel: str, weekday: int) -> str:
    return f"{channel}_{weekday}"


def _today(shop: Shop) -> dt.date:
    """The shop's local date: what 'past' and 'upcoming' mean on its calendar."""
    return clock.now().astimezone(hours_service.zone(shop.time_zone)).date()


def _hours_page(request: Request, db: Session, signed: Signed, *, form: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, day_form: dict[str, str] | None = None,
                day_errors: dict[str, str] | None = None, status: int = 200) -> Response:
    shop = shop_service.get(db, signed.actor.shop_id)
    today = _today(shop)
    if form is None:
        weeks = hours_service.load_all(db, shop.id, shop=shop)
        form = {"time_zone": shop.time_zone}
        for channel, week in weeks.items():
            for weekday in range(7):
                form[_field(channel, weekday)] = hours_service.describe_day(week.on(weekday))
    return _render(request, db, signed, "settings_hours.html", "hours", {
        "form": form, "errors": errors or {}, "channels": hours_service.HOURS_CHANNELS,
        "channel_labels": CHANNEL_LABELS, "channel_hints": CHANNEL_HINTS, "weekday_labels": WEEKDAY_LABELS,
        "holiday_country": shop.holiday_country or "", "holiday_choices": HOLIDAY_CHOICES,
        "holidays": hours_service.upcoming_holidays(shop.holiday_country, today,
                                                    language=pages.language(request).code),
        "dated_days": hours_service.upcoming_days(db, shop.id, today), "hhmm": hours_service.hhmm,
        "day_form": day_form or {"day": "", "channel": "", "kind": "closed", "opens": "", "closes": "", "note": ""},
        "day_errors": day_errors or {}, "today": today.isoformat(),
    }, status=status)


@router.get(HOURS)
def hours_page(request: Request, db: DB, signed: Agent) -> Response:
    require_admin(signed)
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
    require_admin(signed)
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


# --- public holidays, closures and extra openings ----------------------------------------------


@router.post(HOURS + "/holidays")
def save_holidays(request: Request, db: DB, signed: CheckedAgent, form: Posted) -> Response:
    require_admin(signed)
    shop = shop_service.get(db, signed.actor.shop_id)
    try:
        hours_service.set_holiday_country(db, shop, form.get("holiday_country", "").strip() or None)
    except Invalid:
        db.rollback()
        return _hours_page(request, db, signed, status=400)  # only a forged form sends another country
    db.commit()
    return pages.redirect(f"{HOURS}?notice=saved#holidays")


_DATE_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DATE_DUTCH = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")
_CLOCK = re.compile(r"([0-9]{1,2})[:.h]?([0-9]{2})?")


def _read_date(text: str) -> dt.date:
    """2026-12-24 (what a date input sends) or 24-12-2026 (what a Dutch admin types)."""
    text = text.strip()
    iso, dutch = _DATE_ISO.fullmatch(text), _DATE_DUTCH.fullmatch(text)
    try:
        if iso:
            return dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if dutch:
            return dt.date(int(dutch.group(3)), int(dutch.group(2)), int(dutch.group(1)))
    except ValueError:
        pass
    raise Invalid("not a date", code="invalid_date")


def _read_time(text: str) -> int:
    match = _CLOCK.fullmatch(text.strip())
    if match is None or int(match.group(1)) > 24 or int(match.group(2) or 0) > 59:
        raise Invalid("not a time of day", code="invalid_time")
    minutes = int(match.group(1)) * 60 + int(match.group(2) or 0)
    if minutes > 24 * 60:
        raise Invalid("not a time of day", code="invalid_time")
    return minutes


@router.post(HOURS + "/days")
def add_day(request: Request, db: DB, signed: CheckedAgent, posted_form: Posted) -> Response:
    require_admin(signed)
    lang = pages.language(request)
    form = {name: posted_form.get(name, "") for name in DAY_FIELDS}
    shop = shop_service.get(db, signed.actor.shop_id)
    errors: dict[str, str] = {}

    def explain(error: Invalid) -> None:
        field, message = DAY_MESSAGES.get(error.code, ("times", error.detail))
        errors.setdefault(field, lang.gettext(message))

    day: dt.date | None = None
    opens = closes = None
    try:
        day = _read_date(form["day"])
    except Invalid as error:
        explain(error)
    if form["kind"] == "open":
        try:
            opens, closes = _read_time(form["opens"]), _read_time(form["closes"])
        except Invalid as error:
            explain(error)
    if day is not None and not errors:
        try:
            hours_service.add_day(db, shop.id, day=day, channel=form["channel"] or None, opens=opens, closes=closes,
                                  note=form["note"], today=_today(shop))
        except Invalid as error:
            db.rollback()
            explain(error)
    if errors:
        return _hours_page(request, db, signed, day_form=form, day_errors=errors, status=400)
    db.commit()
    return pages.redirect(f"{HOURS}?notice=day_added#days")


@router.post(HOURS + "/days/{day_id}/delete")
def remove_day(day_id: int, db: DB, signed: CheckedAgent) -> Response:
    require_admin(signed)
    hours_service.remove_day(db, signed.actor.shop_id, day_id)  # another shop's id: 404
    db.commit()
    return pages.redirect(f"{HOURS}?notice=day_removed#days")
