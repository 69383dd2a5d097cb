"""A weekly schedule in a time zone, and the questions asked of it: open at this moment?
when does it open next, when does it close, when is a promise due? Pure functions, no database.

What "open" means: an instant is open when its local wall-clock time (weekday, time of day in
the schedule's zone) falls inside one of that weekday's intervals [opens, closes). Everything
else follows from that one rule, so it stays true across DST changes: on the spring-forward
night the skipped hour is never open (an interval 02:30–05:00 opens at 03:00), on the fall-back
night the repeated hour is open as often as the clock shows it, and an interval that ends at
24:00 followed by one that starts at 00:00 the next day is one continuous opening.

Dated days (public holidays, the shop's closures and extra openings) replace the weekly
intervals on their date: a holiday or closure is a dated day with no spans, an extra Sunday
opening one with spans. `spans_on(day)` is the one place that decides which applies.

`business_after(schedule, at, minutes)` answers "when is N business minutes after T", the
sum the SLA, acknowledgements and call-back promises use.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from balie.errors import Invalid

UTC = dt.UTC
MINUTES_A_DAY = 24 * 60
WEEKDAYS = range(7)  # 0 = Monday ... 6 = Sunday
# One search window: every weekday once, plus the day before (an opening that started
# yesterday) and a spare day for the zone's offset. Windows follow each other for at most
# _SEARCH_DAYS (a shop closed for the summer), after which "no hours" is the answer.
_HORIZON_DAYS = 9
_SEARCH_DAYS = 400
Span = tuple[int, int]  # (opens, closes): minutes after local midnight


class NoHours(Invalid):
    """The channel has no opening hours at all, so nothing can be promised on it."""

    code = "no_hours"


@dataclass(frozen=True, order=True)
class Interval:
    weekday: int  # 0 = Monday ... 6 = Sunday
    opens: int  # minutes after local midnight
    closes: int  # minutes after local midnight, up to 1440 (24:00)


@dataclass(frozen=True)
class Schedule:
    """One channel's week in one zone. Build it with `schedule()`, which validates."""

    zone: ZoneInfo
    intervals: tuple[Interval, ...] = ()
    # Days that differ from the week, sorted by date; build with `with_days()`, which validates.
    dated: tuple[tuple[dt.date, tuple[Span, ...]], ...] = ()
    _by_weekday: tuple[tuple[Interval, ...], ...] = field(default=(), repr=False, compare=False)
    _weekly_spans: tuple[tuple[Span, ...], ...] = field(default=(), repr=False, compare=False)
    _by_date: dict[dt.date, tuple[Span, ...]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_weekday = tuple(tuple(i for i in self.intervals if i.weekday == day) for day in WEEKDAYS)
        object.__setattr__(self, "_by_weekday", by_weekday)
        object.__setattr__(self, "_weekly_spans", tuple(tuple((i.opens, i.closes) for i in day) for day in by_weekday))
        object.__setattr__(self, "_by_date", dict(self.dated))

    @property
    def configured(self) -> bool:
        """False when the channel has no hours at all (treated as closed, and said so)."""
        return bool(self.intervals) or any(spans for _, spans in self.dated)

    def on(self, weekday: int) -> tuple[Interval, ...]:
        """The weekly intervals of a weekday (what the settings form shows)."""
        return self._by_weekday[weekday]

    def spans_on(self, day: dt.date) -> tuple[Span, ...]:
        """When the channel is open on this local date: its dated day if it has one, else its weekday."""
        found = self._by_date.get(day)
        return found if found is not None else self._weekly_spans[day.weekday()]


def zone(name: str) -> ZoneInfo:
    """An IANA zone by name, or a clear error (never a file path: names are checked)."""
    name = name.strip()
    if not _ZONE_NAME.fullmatch(name):
        raise Invalid(f"not a time zone: {name[:64]!r} (use an IANA name such as Europe/Amsterdam)",
                      code="invalid_time_zone")
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError) as error:  # ZoneInfoNotFoundError is a KeyError
        raise Invalid(f"unknown time zone {name!r} (use an IANA name such as Europe/Amsterdam)",
                      code="invalid_time_zone") from error


_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}")


def validate(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted intervals, or Invalid naming the first problem. Touching intervals (12:00–13:00
    and 13:00–17:00) are fine; overlapping ones are not."""
    ordered = sorted(intervals)
    for interval in ordered:
        if interval.weekday not in WEEKDAYS:
            raise Invalid(f"weekday must be 0 (Monday) to 6 (Sunday), not {interval.weekday}",
                          code="invalid_weekday")
        if not (0 <= interval.opens < MINUTES_A_DAY and 0 < interval.closes <= MINUTES_A_DAY):
            raise Invalid(f"{_DAY_NAMES[interval.weekday]}: times must lie between 00:00 and 24:00",
                          code="hours_out_of_range")
        if interval.opens >= interval.closes:
            raise Invalid(
                f"{_DAY_NAMES[interval.weekday]}: {describe(interval)} closes before it opens "
                "(for a night, end at 24:00 and go on from 00:00 the next day)",
                code="hours_reversed",
            )
    for before, after in itertools.pairwise(ordered):
        if before.weekday == after.weekday and after.opens < before.closes:
            raise Invalid(f"{_DAY_NAMES[before.weekday]}: {describe(before)} and {describe(after)} overlap",
                          code="hours_overlap")
    return tuple(ordered)


def schedule(time_zone: str | ZoneInfo, intervals: Iterable[Interval] = ()) -> Schedule:
    return Schedule(zone=time_zone if isinstance(time_zone, ZoneInfo) else zone(time_zone),
                    intervals=validate(intervals))


def with_days(week: Schedule, days: Mapping[dt.date, Iterable[Span]]) -> Schedule:
    """`week` with these dates replaced: no spans = closed that day (a holiday, a closure),
    spans = open then instead of the weekday's hours. Later entries of `days` win over
    `week.dated`. Raises Invalid naming the first bad date."""
    merged = dict(week.dated)
    for day, spans in days.items():
        ordered = tuple(sorted(spans))
        for opens, closes in ordered:
            if not (0 <= opens < closes <= MINUTES_A_DAY):
                raise Invalid(f"{day.isoformat()}: {hhmm(opens)}–{hhmm(closes)} is not an opening within the day",
                              code="hours_out_of_range")
        for (_, before_closes), (after_opens, _) in itertools.pairwise(ordered):
            if after_opens < before_closes:
                raise Invalid(f"{day.isoformat()}: the openings overlap", code="hours_overlap")
        merged[day] = ordered
    return Schedule(zone=week.zone, intervals=week.intervals, dated=tuple(sorted(merged.items())))


# --- the questions ------------------------------------------------------------------------


def is_open(schedule: Schedule, at: dt.datetime) -> bool:
    local = _aware(at).astimezone(schedule.zone)
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return any(opens * 60 <= seconds < closes * 60 for opens, closes in schedule.spans_on(local.date()))


def next_open(schedule: Schedule, at: dt.datetime) -> dt.datetime | None:
    """The first moment at or after `at` when the channel is open: `at` itself while open.
    None when the channel has no hours at all."""
    at = _aware(at)
    if is_open(schedule, at):
        return at
    return _next_change(schedule, at, to_open=True)


def closes_at(schedule: Schedule, at: dt.datetime) -> dt.datetime | None:
    """While open: when this opening ends (adjoining intervals, also over midnight, are one
    opening). None when closed now, or open around the clock."""
    at = _aware(at)
    if not is_open(schedule, at):
        return None
    return _next_change(schedule, at, to_open=False)


def promise_due(schedule: Schedule, at: dt.datetime, minutes: int) -> dt.datetime:
    """When a promise of `minutes` made at `at` falls due: `minutes` after `at` while open,
    else `minutes` after the next opening. (Plain minutes, not business minutes: a promise
    made just before closing may fall after it; the SLA issue brings business-minute sums.)
    Raises NoHours when the channel has no hours at all."""
    start = next_open(schedule, at)
    if start is None:
        raise NoHours("no opening hours are set for this channel")
    return start + dt.timedelta(minutes=minutes)


def business_after(schedule: Schedule, at: dt.datetime, minutes: float) -> dt.datetime:
    """The moment when `minutes` of opening time have passed since `at` (counting from the next
    opening when closed at `at`; 0 minutes = that opening). Raises NoHours when the channel
    has no hours at all, or none within a year."""
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    remaining = dt.timedelta(minutes=minutes)
    moment = next_open(schedule, _aware(at).astimezone(UTC))
    while moment is not None:
        closing = closes_at(schedule, moment)
        if closing is None or moment + remaining <= closing:  # None: open for as far as we look
            return moment + remaining
        remaining -= closing - moment
        moment = next_open(schedule, closing)
    raise NoHours("no opening hours are set for this channel")


def business_minutes_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> float:
    """Minutes of opening time in [start, end) (0 when end is not after start)."""
    start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
    total = dt.timedelta()
    moment = next_open(schedule, start)
    while moment is not None and moment < end:
        closing = closes_at(schedule, moment)
        stop = end if closing is None else min(closing, end)
        total += stop - moment
        moment = None if closing is None or closing >= end else next_open(schedule, closing)
    return total.total_seconds() / 60


# --- text in and out (the settings form, the reachability JSON) -----------------------------


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def describe(interval: Interval) -> str:
    return f"{hhmm(interval.opens)}–{hhmm(interval.closes)}"


def describe_day(intervals: Iterable[Interval]) -> str:
    """'09:00–12:00, 13:00–22:00': what the settings form shows and reads back."""
    return ", ".join(describe(i) for i in intervals)


_TIME = r"([0-9]{1,2})(?:[:.h]([0-9]{2}))?"
_RANGE = re.compile(rf"\s*{_TIME}\s*(?:-|–|—|to|tot)\s*{_TIME}\s*", re.IGNORECASE)


def parse_day(weekday: int, text: str) -> list[Interval]:
    """A day typed as '09:00–12:00, 13:00–22:00' (also '9-12; 13.00-22.00'); empty: closed.
    Raises Invalid naming the part that cannot be read."""
    if len(text) > 500:
        raise Invalid(f"{_DAY_NAMES[weekday]}: too long", code="unreadable_hours")
    intervals = []
    for part in re.split(r"[,;\n]", text):
        if not part.strip():
            continue
        match = _RANGE.fullmatch(part)
        if match is None:
            raise Invalid(f"{_DAY_NAMES[weekday]}: cannot read {part.strip()[:40]!r} (write 09:00-17:30)",
                          code="unreadable_hours")
        opens = _minutes(weekday, match.group(1), match.group(2))
        closes = _minutes(weekday, match.group(3), match.group(4))
        intervals.append(Interval(weekday, opens, closes))
    return intervals


def _minutes(weekday: int, hours: str, minutes: str | None) -> int:
    value = int(hours) * 60 + int(minutes or 0)
    if int(hours) > 24 or int(minutes or 0) > 59 or value > MINUTES_A_DAY:
        raise Invalid(f"{_DAY_NAMES[weekday]}: {hours}:{minutes or '00'} is not a time of day",
                      code="hours_out_of_range")
    return value


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --- how the searches work -----------------------------------------------------------------


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime given; use balie.clock")
    return at


def _next_change(schedule: Schedule, at: dt.datetime, *, to_open: bool) -> dt.datetime | None:
    """The first instant after `at` where is_open becomes `to_open`, within the horizon.

    Whether a moment is open can only change where the local clock shows an interval's
    boundary (either of the two moments on a fall-back night) or where the clock jumps
    (a DST change). Those moments are few; test each in order."""
    if not schedule.configured:
        return None
    start_day = at.astimezone(schedule.zone).date()
    # Windows overlap by two days, so a moment at a window's edge is always seen.
    for skip in range(0, _SEARCH_DAYS, _HORIZON_DAYS - 2):
        for moment in _boundaries(schedule, start_day + dt.timedelta(days=skip)):
            if moment > at and is_open(schedule, moment) == to_open:
                return moment
    return None


def _boundaries(schedule: Schedule, from_day: dt.date) -> list[dt.datetime]:
    first_day = from_day - dt.timedelta(days=1)
    moments: set[dt.datetime] = set()
    for offset in range(_HORIZON_DAYS):
        day = first_day + dt.timedelta(days=offset)
        midnight = dt.datetime.combine(day, dt.time())
        for span in schedule.spans_on(day):
            for minute in span:
                wall = midnight + dt.timedelta(minutes=minute)
                for fold in (0, 1):
                    moments.add(wall.replace(tzinfo=schedule.zone, fold=fold).astimezone(UTC))
        moments.update(_clock_changes(schedule.zone, day))
    return sorted(moments)


def _clock_changes(zone: ZoneInfo, day: dt.date) -> list[dt.datetime]:
    """The moment (UTC) around a local day when the zone's offset changes, if it does."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC) - dt.timedelta(hours=3)
    before = start.astimezone(zone).utcoffset()
    if (start + dt.timedelta(hours=30)).astimezone(zone).utcoffset() == before:
        return []  # zones change at most once in a day, and not back within it
    # Bisect whole seconds: the change is at `high`, the first second with the new offset.
    low, high = 0, 30 * 3600
    while high - low > 1:
        middle = (low + high) // 2
        if (start + dt.timedelta(seconds=middle)).astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return [start + dt.timedelta(seconds=high)]
