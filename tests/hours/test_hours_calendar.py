"""Business calendars: public holidays, a shop's closures and extra openings, and business-minute
sums ("when is N business minutes after T") — across weekends, holidays, long closures and DST."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from balie.errors import Invalid
from balie.hours.public_holidays import around, public_holidays
from balie.hours.schedule import (
    NoHours,
    Schedule,
    business_after,
    business_minutes_between,
    closes_at,
    is_open,
    next_open,
    parse_day,
    schedule,
    with_days,
)

AMS = ZoneInfo("Europe/Amsterdam")
UTC = dt.UTC


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def week(text_by_day: dict[int, str]) -> Schedule:
    return schedule("Europe/Amsterdam", [i for day, text in text_by_day.items() for i in parse_day(day, text)])


NINE_TO_FIVE = week({day: "09:00-17:00" for day in range(5)})  # 8 hours, Monday to Friday


def test_a_holiday_closes_a_weekday_and_the_next_opening_skips_it() -> None:
    christmas = with_days(NINE_TO_FIVE, {dt.date(2026, 12, 25): ()})  # a Friday
    assert not is_open(christmas, local(2026, 12, 25, 10))
    assert is_open(NINE_TO_FIVE, local(2026, 12, 25, 10))  # the week itself is unchanged
    assert next_open(christmas, local(2026, 12, 24, 17, 30)) == local(2026, 12, 28, 9)
    assert closes_at(christmas, local(2026, 12, 24, 16)) == local(2026, 12, 24, 17)


def test_an_extra_opening_on_a_sunday_counts_only_that_day() -> None:
    sunday = dt.date(2026, 12, 20)
    shopping_sunday = with_days(NINE_TO_FIVE, {sunday: [(12 * 60, 17 * 60)]})
    assert is_open(shopping_sunday, local(2026, 12, 20, 13))
    assert not is_open(shopping_sunday, local(2026, 12, 27, 13))  # the next Sunday: closed again
    assert next_open(shopping_sunday, local(2026, 12, 19, 18)) == local(2026, 12, 20, 12)


def test_a_dated_day_can_shorten_a_weekday() -> None:
    christmas_eve = with_days(NINE_TO_FIVE, {dt.date(2026, 12, 24): [(9 * 60, 14 * 60)]})
    assert closes_at(christmas_eve, local(2026, 12, 24, 10)) == local(2026, 12, 24, 14)
    assert not is_open(christmas_eve, local(2026, 12, 24, 15))


def test_a_closure_of_two_months_is_searched_past() -> None:
    summer = with_days(NINE_TO_FIVE, {dt.date(2026, 7, 1) + dt.timedelta(days=n): () for n in range(62)})
    assert next_open(summer, local(2026, 6, 30, 18)) == local(2026, 9, 1, 9)
    assert business_after(summer, local(2026, 6, 30, 16), 120) == local(2026, 9, 1, 10)


def test_business_minutes_carry_over_the_weekend() -> None:
    assert business_after(NINE_TO_FIVE, local(2026, 11, 27, 16), 120) == local(2026, 11, 30, 10)  # Fri → Mon
    # 24 business hours = three 8-hour days.
    assert business_after(NINE_TO_FIVE, local(2026, 11, 23, 10), 24 * 60) == local(2026, 11, 26, 10)
    # Asked while closed: counted from the next opening; 0 minutes is that opening.
    assert business_after(NINE_TO_FIVE, local(2026, 11, 28, 12), 30) == local(2026, 11, 30, 9, 30)
    assert business_after(NINE_TO_FIVE, local(2026, 11, 28, 12), 0) == local(2026, 11, 30, 9)
    # Ending exactly at closing time stays on that day.
    assert business_after(NINE_TO_FIVE, local(2026, 11, 27, 16), 60) == local(2026, 11, 27, 17)


def test_business_minutes_across_the_spring_forward_weekend_are_wall_clock_hours() -> None:
    # Summer time starts on Sunday 29 March 2026: Monday 09:30 is 07:30 UTC, not 08:30.
    due = business_after(NINE_TO_FIVE, local(2026, 3, 27, 16, 30), 60)
    assert due == local(2026, 3, 30, 9, 30)
    assert due.astimezone(UTC) == dt.datetime(2026, 3, 30, 7, 30, tzinfo=UTC)


def test_business_minutes_with_a_holiday_in_between() -> None:
    kings_day = with_days(NINE_TO_FIVE, {dt.date(2026, 4, 27): ()})  # Monday
    assert business_after(kings_day, local(2026, 4, 24, 16), 120) == local(2026, 4, 28, 10)
    assert business_minutes_between(kings_day, local(2026, 4, 24, 16), local(2026, 4, 28, 10)) == 120


def test_open_around_the_clock_is_plain_time() -> None:
    always = week({day: "00:00-24:00" for day in range(7)})
    start = local(2026, 10, 24, 23, 30)  # over the fall-back night: 25 hours in that Sunday
    assert business_after(always, start, 90) == start.astimezone(UTC) + dt.timedelta(minutes=90)
    assert business_minutes_between(always, start, start + dt.timedelta(hours=3)) == 180


def test_minutes_between_counts_only_opening_time_and_nothing_backwards() -> None:
    assert business_minutes_between(NINE_TO_FIVE, local(2026, 11, 23, 8), local(2026, 11, 24, 18)) == 16 * 60
    assert business_minutes_between(NINE_TO_FIVE, local(2026, 11, 28, 8), local(2026, 11, 29, 18)) == 0
    assert business_minutes_between(NINE_TO_FIVE, local(2026, 11, 24, 12), local(2026, 11, 23, 12)) == 0


def test_no_hours_at_all_or_none_within_a_year_is_said_so() -> None:
    with pytest.raises(NoHours):
        business_after(schedule("Europe/Amsterdam"), local(2026, 11, 24, 10), 10)
    closed_for_good = with_days(NINE_TO_FIVE, {dt.date(2026, 11, 24) + dt.timedelta(days=n): () for n in range(500)})
    with pytest.raises(NoHours):
        business_after(closed_for_good, local(2026, 11, 24, 10), 10)
    with pytest.raises(ValueError):
        business_after(NINE_TO_FIVE, local(2026, 11, 24, 10), -1)


@pytest.mark.parametrize("spans", [[(600, 540)], [(0, 1441)], [(-5, 60)], [(540, 720), (700, 800)]])
def test_a_dated_day_with_impossible_openings_is_refused(spans: list[tuple[int, int]]) -> None:
    with pytest.raises(Invalid) as problem:
        with_days(NINE_TO_FIVE, {dt.date(2026, 12, 24): spans})
    assert "2026-12-24" in problem.value.detail


def test_dutch_and_belgian_public_holidays() -> None:
    dutch = public_holidays("NL", [2026, 2027])
    assert dutch[dt.date(2026, 4, 27)] == "Koningsdag"
    assert dt.date(2027, 12, 25) in dutch and dt.date(2026, 7, 21) not in dutch
    belgian = public_holidays("be", [2026])
    assert dt.date(2026, 7, 21) in belgian and dt.date(2026, 4, 27) not in belgian
    assert list(around(local(2026, 12, 30))) == [2025, 2026, 2027]
    with pytest.raises(Invalid) as problem:
        public_holidays("DE", [2026])
    assert problem.value.code == "invalid_holiday_country"


def test_holiday_names_in_the_language_asked_else_the_countrys_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "fr")  # a server's locale must not choose the names
    christmas, national_day = dt.date(2026, 12, 25), dt.date(2026, 7, 21)
    assert public_holidays("NL", [2026])[christmas] == "Eerste kerstdag"
    assert public_holidays("NL", [2026], "nl")[christmas] == "Eerste kerstdag"
    assert public_holidays("NL", [2026], "en")[christmas] == "Christmas Day"
    assert public_holidays("BE", [2026], "en")[national_day] == "National Day"
    assert public_holidays("BE", [2026], "nl")[national_day] == "Nationale feestdag"
    assert public_holidays("BE", [2026], "fr")[national_day] == "Fête nationale"
    assert public_holidays("NL", [2026], "fr")[christmas] == "Eerste kerstdag"  # the package has no French for NL
    assert public_holidays("NL", [2026], "xx")[christmas] == "Eerste kerstdag"


def test_holidays_folded_into_a_week_close_those_days() -> None:
    dutch = with_days(NINE_TO_FIVE, {day: () for day in public_holidays("NL", around(local(2026, 5, 13)))})
    # Hemelvaartsdag, Thursday 14 May 2026: a promise made on Wednesday afternoon lands on Friday.
    assert business_after(dutch, local(2026, 5, 13, 16), 120) == local(2026, 5, 15, 10)
