"""Opening hours of a shop: load a channel's week from the database, replace it, set the
shop's time zone and public holidays, add and remove its dated days (closures, extra
openings). A loaded Schedule has the holidays and dated days folded in. The questions
(open now? next opening? promise due? N business minutes after T?) are pure functions in
`balie.hours.schedule`, re-exported here so callers need one import:

    from balie.hours import service as hours_service
    week = hours_service.load(session, shop_id, "callback")
    due = hours_service.promise_due(week, clock.now(), 30)
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, delete, literal, null, select, union_all
from sqlalchemy.orm import Session

from balie import clock
from balie.db import get_scoped
from balie.errors import Invalid, NotFound
from balie.hours import public_holidays
from balie.hours.models import HOURS_CHANNELS, DatedHours, OpeningInterval
from balie.hours.schedule import (
    Interval,
    NoHours,
    Schedule,
    business_after,
    business_minutes_between,
    closes_at,
    describe_day,
    hhmm,
    is_open,
    next_open,
    parse_day,
    promise_due,
    schedule,
    validate,
    with_days,
    zone,
)
from balie.shops.models import Shop

__all__ = [
    "HOURS_CHANNELS", "DatedDay", "Interval", "NoHours", "Schedule", "add_day", "business_after",
    "business_minutes_between", "closes_at", "describe_day", "hhmm", "is_open", "load", "load_all", "next_open",
    "parse_day", "promise_due", "remove_day", "replace", "schedule", "set_holiday_country", "set_time_zone",
    "upcoming_days", "upcoming_holidays", "validate", "zone",
]


def check_channel(channel: str) -> str:
    if channel not in HOURS_CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(HOURS_CHANNELS)}", code="invalid_channel")
    return channel


def _shop_calendar(session: Session, shop_id: int) -> tuple[str, str | None]:
    """The shop's time zone and holiday country, in one read."""
    row = session.execute(select(Shop.time_zone, Shop.holiday_country).where(Shop.id == shop_id)).first()
    if row is None:
        raise NotFound(f"shop {shop_id} not found")
    return row[0], row[1]


def _time_zone(session: Session, shop_id: int) -> str:
    return _shop_calendar(session, shop_id)[0]


def load_all(session: Session, shop_id: int, *, shop: Shop | None = None,
             at: dt.datetime | None = None) -> dict[str, Schedule]:
    """Every channel's week (an empty Schedule for a channel without hours) with the shop's
    public holidays and dated days folded in, for the years around `at` (default: now).
    One query for the hours; pass `shop` when the row is at hand, to save reading it."""
    if shop is not None:
        time_zone, country = shop.time_zone, shop.holiday_country
    else:
        time_zone, country = _shop_calendar(session, shop_id)
    tz = zone(time_zone)
    years = public_holidays.around(at or clock.now())
    weekly: dict[str, list[Interval]] = {channel: [] for channel in HOURS_CHANNELS}
    dated: list[tuple[str | None, dt.date, int | None, int | None]] = []
    for channel, day, weekday, opens, closes in session.execute(_hours_query(shop_id, years)).all():
        if day is None:
            weekly.setdefault(channel, []).append(Interval(weekday, opens, closes))
        else:
            dated.append((channel, day, opens, closes))
    closed = _holidays(country, years)
    # Stored rows passed validation (and the table's checks) when they were written.
    return {channel: _fold(Schedule(zone=tz, intervals=tuple(sorted(found))), channel, closed, dated)
            for channel, found in weekly.items()}


def load(session: Session, shop_id: int, channel: str, *, shop: Shop | None = None,
         at: dt.datetime | None = None) -> Schedule:
    """One channel's week in the shop's zone, holidays and dated days folded in."""
    check_channel(channel)
    return load_all(session, shop_id, shop=shop, at=at)[channel]


def _hours_query(shop_id: int, years: range) -> CompoundSelect[Any]:
    """The weekly intervals and the dated days from the first year on, as one statement
    (the widget asks on every cache miss). Dated rows come first so the union's column types
    are theirs; weekly rows have no day."""
    since = dt.date(years.start, 1, 1)
    return union_all(
        select(DatedHours.channel, DatedHours.day, literal(-1).label("weekday"), DatedHours.opens, DatedHours.closes)
        .where(DatedHours.shop_id == shop_id, DatedHours.day >= since),
        select(OpeningInterval.channel, null().label("day"), OpeningInterval.weekday, OpeningInterval.opens,
               OpeningInterval.closes)
        .where(OpeningInterval.shop_id == shop_id),
    )


@functools.lru_cache(maxsize=64)
def _holidays(country: str | None, years: range) -> frozenset[dt.date]:
    if country is None or country not in public_holidays.COUNTRIES:
        return frozenset()
    return frozenset(public_holidays.public_holidays(country, years))


def _fold(week: Schedule, channel: str, holidays: frozenset[dt.date],
          dated: list[tuple[str | None, dt.date, int | None, int | None]]) -> Schedule:
    """The week with holidays closed, then the shop's own days on top: a date's rows for this
    channel win over its rows for every channel; openings make the date open exactly then,
    closures alone close it."""
    mine: dict[dt.date, list[tuple[int | None, int | None]]] = {}
    shared: dict[dt.date, list[tuple[int | None, int | None]]] = {}
    for row_channel, day, opens, closes in dated:
        if row_channel == channel:
            mine.setdefault(day, []).append((opens, closes))
        elif row_channel is None:
            shared.setdefault(day, []).append((opens, closes))
    days: dict[dt.date, list[tuple[int, int]]] = {day: [] for day in holidays}
    for day, rows in (shared | mine).items():
        days[day] = [(opens, closes) for opens, closes in rows if opens is not None and closes is not None]
    if not days:
        return week
    return with_days(week, days)


def replace(session: Session, shop_id: int, channel: str, intervals: Iterable[Interval]) -> Schedule:
    """Replace a channel's whole week. Validates first: on Invalid nothing changes."""
    check_channel(channel)
    valid = validate(intervals)
    tz = zone(_time_zone(session, shop_id))
    session.execute(
        delete(OpeningInterval).where(OpeningInterval.shop_id == shop_id, OpeningInterval.channel == channel)
    )
    session.add_all(
        OpeningInterval(shop_id=shop_id, channel=channel, weekday=i.weekday, opens=i.opens, closes=i.closes)
        for i in valid
    )
    session.flush()
    return Schedule(zone=tz, intervals=valid)


def set_time_zone(session: Session, shop: Shop, name: str) -> None:
    zone(name)  # raises Invalid for an unknown name
    shop.time_zone = name.strip()
    session.flush()


# --- public holidays and dated days -----------------------------------------------------------

NOTE_LENGTH = 200
DAYS_AHEAD = 2 * 366  # a closure further ahead than two years is a typing error


def set_holiday_country(session: Session, shop: Shop, country: str | None) -> None:
    """`NL`, `BE`, or None (no public holidays). Raises Invalid for another country."""
    shop.holiday_country = public_holidays.check_country(country) if country else None
    session.flush()


def upcoming_holidays(country: str | None, today: dt.date, count: int = 5,
                      language: str | None = None) -> list[tuple[dt.date, str]]:
    """The next `count` public holidays from `today` on (what the settings page shows), named in
    `language` where the package has it, else in the country's own."""
    if not country:
        return []
    found = public_holidays.public_holidays(country, (today.year, today.year + 1), language)
    return [(day, name) for day, name in found.items() if day >= today][:count]


@dataclass(frozen=True)
class DatedDay:
    """A dated row as the settings page lists it."""

    id: int
    channel: str | None
    day: dt.date
    opens: int | None
    closes: int | None
    note: str

    @property
    def closed(self) -> bool:
        return self.opens is None


def upcoming_days(session: Session, shop_id: int, today: dt.date, limit: int = 200) -> list[DatedDay]:
    rows = session.scalars(
        select(DatedHours).where(DatedHours.shop_id == shop_id, DatedHours.day >= today)
        # A date's closures first, then its openings in time order (NULLs sort differently per database).
        .order_by(DatedHours.day, DatedHours.opens.is_not(None), DatedHours.opens, DatedHours.id).limit(limit)
    ).all()
    return [DatedDay(row.id, row.channel, row.day, row.opens, row.closes, row.note) for row in rows]


def add_day(session: Session, shop_id: int, *, day: dt.date, channel: str | None, opens: int | None = None,
            closes: int | None = None, note: str = "", today: dt.date) -> DatedHours:
    """A closure (no times) or an extra opening on `day`, for one channel or every channel
    (None). `today` is the shop's local date. The same row again returns the one stored (a
    form sent twice adds one); a clash with the date's other rows raises Invalid."""
    if channel is not None:
        check_channel(channel)
    if day < today:
        raise Invalid(f"{day.isoformat()} has passed", code="day_in_past")
    if day > today + dt.timedelta(days=DAYS_AHEAD):
        raise Invalid(f"{day.isoformat()} is more than two years ahead", code="day_too_far")
    if (opens is None) != (closes is None):
        raise Invalid("give both times, or neither for a closed day", code="hours_incomplete")
    if opens is not None and closes is not None:
        if not (0 <= opens < 1440 and 0 < closes <= 1440):
            raise Invalid("times lie between 00:00 and 24:00", code="hours_out_of_range")
        if opens >= closes:
            raise Invalid(f"{hhmm(opens)}–{hhmm(closes)} closes before it opens", code="hours_reversed")
    note = " ".join(note.split())  # one line: no control characters or line breaks
    if len(note) > NOTE_LENGTH:
        raise Invalid(f"a note has at most {NOTE_LENGTH} characters", code="note_too_long")
    same_scope = session.scalars(
        select(DatedHours).where(DatedHours.shop_id == shop_id, DatedHours.day == day,
                                 DatedHours.channel.is_(None) if channel is None else DatedHours.channel == channel)
    ).all()
    for row in same_scope:
        if (row.opens, row.closes) == (opens, closes):
            return row
        if opens is None or row.opens is None:
            raise Invalid(f"{day.isoformat()} has openings and a closure; remove one first", code="day_conflict")
        if row.closes is not None and closes is not None and opens < row.closes and row.opens < closes:
            raise Invalid(f"{day.isoformat()}: {hhmm(opens)}–{hhmm(closes)} overlaps "
                          f"{hhmm(row.opens)}–{hhmm(row.closes)}", code="hours_overlap")
    row = DatedHours(shop_id=shop_id, channel=channel, day=day, opens=opens, closes=closes, note=note)
    session.add(row)
    session.flush()
    return row


def remove_day(session: Session, shop_id: int, day_id: int) -> None:
    """Removes one of this shop's dated rows; another shop's id is NotFound."""
    session.delete(get_scoped(session, DatedHours, shop_id, day_id))
    session.flush()
