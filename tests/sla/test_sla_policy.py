"""SLA timers on a clock the tests set: due and "due soon" moments in business and calendar
time, the clock stopping while the conversation waits on the customer, and states."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from balie.errors import Invalid
from balie.hours.schedule import Schedule, parse_day, schedule
from balie.sla.policy import Policy, Target, default_policy, meet, overall, pause, resume, start, state_of

AMS = ZoneInfo("Europe/Amsterdam")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)  # type: ignore[misc]


NINE_TO_FIVE: Schedule = schedule("Europe/Amsterdam", [i for day in range(5) for i in parse_day(day, "09:00-17:00")])
DAY = Target(24 * 60)  # e-mail's default: 24 business hours, three 8-hour days here


def test_e_mail_on_friday_afternoon_is_due_three_working_days_later() -> None:
    timer = start("first_response", DAY, NINE_TO_FIVE, local(2026, 11, 27, 16))
    # Friday 1 h + Monday 8 h + Tuesday 8 h + Wednesday 7 h = 24 business hours.
    assert timer.due_at == local(2026, 12, 2, 16)
    # Due soon at 80 %: 19 h 12 min in, Wednesday 11:12.
    assert timer.warn_at == local(2026, 12, 2, 11, 12)
    assert not timer.calendar_fallback


def test_chat_two_minutes_while_open_carries_over_the_night() -> None:
    chat = Target(2)
    assert start("first_response", chat, NINE_TO_FIVE, local(2026, 11, 24, 10)).due_at == local(2026, 11, 24, 10, 2)
    late = start("first_response", chat, NINE_TO_FIVE, local(2026, 11, 24, 16, 59))
    assert late.due_at == local(2026, 11, 25, 9, 1)


def test_states_change_exactly_at_due_soon_and_due() -> None:
    timer = start("first_response", Target(60), NINE_TO_FIVE, local(2026, 11, 24, 10))
    assert timer.warn_at == local(2026, 11, 24, 10, 48)
    assert state_of(timer, local(2026, 11, 24, 10, 47, 59)) == "on_track"
    assert state_of(timer, local(2026, 11, 24, 10, 48)) == "due_soon"
    assert state_of(timer, local(2026, 11, 24, 11)) == "breached"
    assert state_of(meet(timer, local(2026, 11, 24, 10, 30)), local(2026, 11, 24, 12)) == "met"


def test_the_clock_stops_while_waiting_on_the_customer_and_goes_on_from_there() -> None:
    timer = start("resolution", DAY, NINE_TO_FIVE, local(2026, 11, 23, 10))  # Monday
    assert timer.due_at == local(2026, 11, 26, 10)
    waiting = pause(timer, NINE_TO_FIVE, local(2026, 11, 23, 12))  # 2 h used, 22 h left
    assert waiting.remaining_minutes == 22 * 60
    assert state_of(waiting, local(2026, 12, 31, 12)) == "paused"  # however long the customer takes
    again = resume(waiting, NINE_TO_FIVE, local(2026, 11, 25, 10))  # the customer writes on Wednesday
    # Wednesday 7 h + Thursday 8 h + Friday 7 h = 22 h: Friday 16:00.
    assert again.due_at == local(2026, 11, 27, 16)
    assert state_of(again, local(2026, 11, 27, 16)) == "breached"


def test_a_breached_timer_stays_breached_after_a_pause() -> None:
    timer = start("first_response", Target(60), NINE_TO_FIVE, local(2026, 11, 24, 10))
    waiting = pause(timer, NINE_TO_FIVE, local(2026, 11, 24, 14))
    assert waiting.remaining_minutes == 0
    assert state_of(resume(waiting, NINE_TO_FIVE, local(2026, 11, 25, 10)), local(2026, 11, 25, 10)) == "breached"


def test_calendar_time_ignores_the_hours() -> None:
    around_the_clock = Target(60, business=False)
    timer = start("first_response", around_the_clock, NINE_TO_FIVE, local(2026, 11, 28, 23, 30))  # Saturday night
    assert timer.due_at == local(2026, 11, 29, 0, 30)
    waiting = pause(timer, NINE_TO_FIVE, local(2026, 11, 28, 23, 45))
    assert waiting.remaining_minutes == 45


def test_no_opening_hours_falls_back_to_calendar_time_and_says_so() -> None:
    timer = start("first_response", DAY, schedule("Europe/Amsterdam"), local(2026, 11, 24, 10))
    assert timer.calendar_fallback
    assert timer.due_at == local(2026, 11, 25, 10)
    assert start("first_response", DAY, None, local(2026, 11, 24, 10)).calendar_fallback


def test_the_defaults_a_new_shop_gets() -> None:
    policy = default_policy()
    assert policy.target("email", "normal", "first_response") == Target(24 * 60, business=True)
    assert policy.target("chat", "urgent", "first_response") == Target(2)
    assert policy.target("social", "low", "next_response") == Target(60)
    assert policy.target("whatsapp", "high", "first_response") == Target(60)
    assert policy.target("email", "normal", "resolution") is None
    assert policy.near == 0.8


@pytest.mark.parametrize("minutes", [0, -5, 366 * 24 * 60 + 1])
def test_impossible_targets_are_refused(minutes: int) -> None:
    with pytest.raises(Invalid):
        Target(minutes)


def test_due_soon_must_be_a_share_of_the_target() -> None:
    with pytest.raises(Invalid):
        Policy({}, near=1.5)


def test_the_conversation_shows_its_worst_timer() -> None:
    now = local(2026, 11, 24, 12)
    first = meet(start("first_response", Target(60), NINE_TO_FIVE, local(2026, 11, 24, 9)), local(2026, 11, 24, 9, 5))
    late = start("next_response", Target(60), NINE_TO_FIVE, local(2026, 11, 24, 10))
    fine = start("resolution", DAY, NINE_TO_FIVE, local(2026, 11, 24, 10))
    assert overall([first, late, fine], now) == "breached"
    assert overall([first, fine], now) == "on_track"
    assert overall([first, pause(fine, NINE_TO_FIVE, now)], now) == "paused"
    assert overall([first], now) == "met"
    assert overall([], now) is None
