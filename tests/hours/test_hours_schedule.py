"""The pure schedule questions: open now, next opening, closing, promise due; DST nights."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from balie.errors import Invalid
from balie.hours.schedule import (
    Interval,
    NoHours,
    closes_at,
    describe_day,
    is_open,
    next_open,
    parse_day,
    promise_due,
    schedule,
    zone,
)

AMS = ZoneInfo("Europe/Amsterdam")
UTC = dt.UTC


def local(*args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS, fold=fold)  # type: ignore[misc]


def week(text_by_day: dict[int, str], tz: str = "Europe/Amsterdam"):  # type: ignore[no-untyped-def]
    intervals = [i for day, text in text_by_day.items() for i in parse_day(day, text)]
    return schedule(tz, intervals)


OFFICE = week({day: "09:00-12:00, 13:00-17:30" for day in range(5)})
# Evenings and weekends; Friday night runs into Saturday.
EVENINGS = week({0: "18:00-22:00", 4: "20:00-24:00", 5: "00:00-02:00, 10:00-16:00", 6: "12:00-22:00"})


# 2026-11-23 is a Monday.
def test_open_inside_an_interval_and_closed_at_lunch_and_at_night() -> None:
    assert is_open(OFFICE, local(2026, 11, 23, 9, 0))
    assert is_open(OFFICE, local(2026, 11, 23, 11, 59, 59))
    assert not is_open(OFFICE, local(2026, 11, 23, 12, 0))  # closes is exclusive
    assert not is_open(OFFICE, local(2026, 11, 23, 8, 59))
    assert not is_open(OFFICE, local(2026, 11, 28, 10, 0))  # Saturday: closed
    # The answer does not depend on the zone the question is asked in.
    assert is_open(OFFICE, dt.datetime(2026, 11, 23, 8, 30, tzinfo=UTC))  # 09:30 in Amsterdam


def test_next_open_is_now_while_open_else_the_next_interval() -> None:
    at = local(2026, 11, 23, 10, 0)
    assert next_open(OFFICE, at) == at
    assert next_open(OFFICE, local(2026, 11, 23, 12, 30)) == local(2026, 11, 23, 13, 0)
    assert next_open(OFFICE, local(2026, 11, 23, 18, 0)) == local(2026, 11, 24, 9, 0)
    # Friday evening: Monday morning.
    assert next_open(OFFICE, local(2026, 11, 27, 18, 0)) == local(2026, 11, 30, 9, 0)


def test_closes_at_ends_this_opening() -> None:
    assert closes_at(OFFICE, local(2026, 11, 23, 10, 0)) == local(2026, 11, 23, 12, 0)
    assert closes_at(OFFICE, local(2026, 11, 23, 12, 30)) is None  # closed now


def test_24_00_followed_by_00_00_is_one_opening() -> None:
    friday_night = local(2026, 11, 27, 23, 0)
    assert is_open(EVENINGS, friday_night)
    assert closes_at(EVENINGS, friday_night) == local(2026, 11, 28, 2, 0)
    assert is_open(EVENINGS, local(2026, 11, 28, 0, 0))
    assert next_open(EVENINGS, local(2026, 11, 28, 3, 0)) == local(2026, 11, 28, 10, 0)


def test_touching_intervals_within_a_day_are_one_opening() -> None:
    split = week({0: "09:00-12:00, 12:00-17:00"})
    assert closes_at(split, local(2026, 11, 23, 10, 0)) == local(2026, 11, 23, 17, 0)


def test_open_around_the_clock_never_closes() -> None:
    always = week({day: "00:00-24:00" for day in range(7)})
    at = local(2026, 11, 23, 3, 0)
    assert is_open(always, at)
    assert next_open(always, at) == at
    assert closes_at(always, at) is None


def test_no_hours_is_closed_and_never_opens() -> None:
    empty = schedule("Europe/Amsterdam")
    at = local(2026, 11, 23, 10, 0)
    assert not empty.configured
    assert not is_open(empty, at)
    assert next_open(empty, at) is None
    with pytest.raises(NoHours):
        promise_due(empty, at, 30)


def test_promise_due_counts_from_now_while_open_else_from_the_next_opening() -> None:
    assert promise_due(OFFICE, local(2026, 11, 23, 10, 0), 30) == local(2026, 11, 23, 10, 30)
    assert promise_due(OFFICE, local(2026, 11, 23, 12, 10), 30) == local(2026, 11, 23, 13, 30)
    assert promise_due(OFFICE, local(2026, 11, 27, 22, 0), 45) == local(2026, 11, 30, 9, 45)


# Europe/Amsterdam: spring forward on Sunday 2026-03-29 (02:00 CET -> 03:00 CEST),
# fall back on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET).
def test_spring_forward_keeps_wall_clock_hours() -> None:
    sundays = week({5: "20:00-24:00", 6: "00:00-06:00, 09:00-17:00"})
    saturday_evening = local(2026, 3, 28, 21, 0)
    end = closes_at(sundays, saturday_evening)
    assert end == local(2026, 3, 29, 6, 0)
    assert end.astimezone(UTC) == dt.datetime(2026, 3, 29, 4, 0, tzinfo=UTC)
    # The night is an hour shorter: 21:00 CET to 06:00 CEST is 8 hours.
    assert end - saturday_evening == dt.timedelta(hours=8)
    assert next_open(sundays, local(2026, 3, 29, 7, 0)).astimezone(UTC) == dt.datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert promise_due(sundays, dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), 60) == dt.datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC)


def test_an_interval_starting_in_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    night = week({6: "02:30-05:00"})
    opening = next_open(night, local(2026, 3, 29, 1, 0))
    assert opening == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST, the jump
    assert is_open(night, opening)
    assert not is_open(night, opening - dt.timedelta(seconds=1))


def test_fall_back_keeps_wall_clock_hours() -> None:
    sundays = week({5: "20:00-24:00", 6: "00:00-06:00, 09:00-17:00"})
    saturday_evening = local(2026, 10, 24, 21, 0)
    end = closes_at(sundays, saturday_evening)
    assert end.astimezone(UTC) == dt.datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # 06:00 CET
    assert end - saturday_evening == dt.timedelta(hours=10)  # an hour longer
    assert next_open(sundays, local(2026, 10, 25, 7, 0)).astimezone(UTC) == dt.datetime(
        2026, 10, 25, 8, 0, tzinfo=UTC)  # 09:00 CET
    # Both passes through 02:30 are open.
    assert is_open(sundays, local(2026, 10, 25, 2, 30, fold=0))
    assert is_open(sundays, local(2026, 10, 25, 2, 30, fold=1))


def test_an_interval_ending_in_the_repeated_hour_opens_again_on_the_second_pass() -> None:
    night = week({6: "00:00-02:30"})
    first_end = closes_at(night, local(2026, 10, 25, 1, 0))
    assert first_end == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    # The clock goes back to 02:00 at 01:00 UTC: open again until 02:30 CET.
    assert next_open(night, first_end) == dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert closes_at(night, dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)) == dt.datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC)


def test_other_zones() -> None:
    tokyo = week({0: "09:00-17:00"}, tz="Asia/Tokyo")
    assert next_open(tokyo, dt.datetime(2026, 11, 22, 23, 0, tzinfo=UTC)) == dt.datetime(
        2026, 11, 23, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-12:00, 13:00-22:00", [(540, 720), (780, 1320)]),
        ("9-12; 13.00–22.00", [(540, 720), (780, 1320)]),
        ("20:00 - 24:00", [(1200, 1440)]),
        ("", []),
        ("  ", []),
    ],
)
def test_parse_day(text: str, expected: list[tuple[int, int]]) -> None:
    assert [(i.opens, i.closes) for i in parse_day(2, text)] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:00", "cannot read"),
        ("nine to five", "cannot read"),
        ("25:00-26:00", "not a time of day"),
        ("09:60-10:00", "not a time of day"),
        ("x" * 600, "too long"),
        ("٠٩:٠٠-١٢:٠٠", "cannot read"),
    ],
)
def test_parse_day_refuses_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        parse_day(0, text)


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        ([Interval(0, 600, 540)], "closes before it opens"),
        ([Interval(0, 600, 600)], "closes before it opens"),
        ([Interval(0, 540, 720), Interval(0, 700, 800)], "overlap"),
        ([Interval(7, 540, 720)], "weekday"),
        ([Interval(0, 540, 1500)], "between 00:00 and 24:00"),
    ],
)
def test_invalid_weeks(intervals: list[Interval], message: str) -> None:
    with pytest.raises(Invalid, match=message):
        schedule("Europe/Amsterdam", intervals)


def test_describe_day_round_trips() -> None:
    intervals = parse_day(0, "9-12, 13:00-24:00")
    assert describe_day(intervals) == "09:00–12:00, 13:00–24:00"
    assert parse_day(0, describe_day(intervals)) == intervals


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "Europe/Amsterdam\x00", "Ä" * 70])
def test_unknown_zones_are_refused(name: str) -> None:
    with pytest.raises(Invalid, match="time zone"):
        zone(name)
