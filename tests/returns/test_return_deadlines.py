"""The withdrawal's deadlines as the law counts them: day 1 is the day after receipt, a last
day that is not a working day moves to the next one, unknown delivery is never held against
the customer."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from balie.hours.public_holidays import public_holidays
from balie.returns import deadlines

AMS = ZoneInfo("Europe/Amsterdam")
NL = frozenset(public_holidays("NL", range(2025, 2028)))


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=AMS)


def compute(withdrawn: dt.datetime, delivered: dt.datetime | None,
            closed: frozenset[dt.date] = NL) -> deadlines.Deadlines:
    return deadlines.compute(withdrawn_at=withdrawn, delivered_at=delivered, zone=AMS, closed=closed)


def test_the_day_after_receipt_is_day_one_and_day_fourteen_is_still_in_time() -> None:
    delivered = local(2026, 11, 2, 9)  # Monday 2 November: day 1 is Tuesday 3, day 14 Monday 16
    assert compute(local(2026, 11, 16, 23, 59), delivered).period_ends_on == dt.date(2026, 11, 16)
    assert compute(local(2026, 11, 16, 23, 59), delivered).in_time
    late = compute(local(2026, 11, 17, 0, 1), delivered)
    assert not late.in_time and not late.delivery_unknown


def test_the_day_of_receipt_is_the_shops_local_day_not_utc() -> None:
    # 00:30 in Amsterdam on 3 November is still 2 November in UTC: the customer received it on the 3rd.
    delivered = local(2026, 11, 3, 0, 30)
    assert delivered.astimezone(dt.UTC).date() == dt.date(2026, 11, 2)
    assert compute(local(2026, 11, 17), delivered).period_ends_on == dt.date(2026, 11, 17)


def test_a_period_ending_on_a_sunday_ends_on_monday() -> None:
    delivered = local(2026, 11, 8)  # Sunday 8 November + 14 = Sunday 22 November
    found = compute(local(2026, 11, 23, 20), delivered)
    assert found.period_ends_on == dt.date(2026, 11, 23) and found.in_time


def test_a_refund_due_on_christmas_moves_past_the_holidays_and_the_weekend() -> None:
    # Withdrawn Friday 11 December: + 14 = Friday 25 December (Eerste Kerstdag), Saturday 26
    # (Tweede Kerstdag), Sunday 27: due Monday 28 December.
    found = compute(local(2026, 12, 11, 15), local(2026, 12, 7))
    assert found.refund_due_on == dt.date(2026, 12, 28) and found.send_back_by == dt.date(2026, 12, 28)
    assert found.refund_due_at == dt.datetime(2026, 12, 28, 23, 0, tzinfo=dt.UTC)  # end of the day in Amsterdam
    assert found.refund_warn_at == found.refund_due_at - dt.timedelta(days=3)


def test_kings_day_and_a_shop_closure_are_not_working_days() -> None:
    # Withdrawn Tuesday 13 April 2027: + 14 = Tuesday 27 April, Koningsdag: due Wednesday 28.
    assert compute(local(2027, 4, 13), None).refund_due_on == dt.date(2027, 4, 28)
    # The shop is closed on Wednesday 28 April as well: Thursday 29.
    closed = NL | {dt.date(2027, 4, 28)}
    assert compute(local(2027, 4, 13), None, closed).refund_due_on == dt.date(2027, 4, 29)


def test_unknown_delivery_is_in_time_and_marked_so() -> None:
    found = compute(local(2027, 6, 1), None)
    assert found.in_time and found.delivery_unknown and found.period_ends_on is None
    # The refund is due from the withdrawal all the same.
    assert found.refund_due_on == dt.date(2027, 6, 15)


def test_a_withdrawal_before_delivery_is_in_time() -> None:
    assert compute(local(2026, 11, 1), local(2026, 11, 5)).in_time


def test_the_refund_promise_states() -> None:
    due = dt.datetime(2026, 12, 8, 23, tzinfo=dt.UTC)
    warn = due - dt.timedelta(days=3)

    def state(now: dt.datetime, refunded: bool = False) -> str:
        return deadlines.refund_state(refunded=refunded, due_at=due, warn_at=warn, now=now)

    assert state(warn - dt.timedelta(seconds=1)) == "on_track"
    assert state(warn) == "due_soon"
    assert state(due) == "breached"
    assert state(due + dt.timedelta(days=9), refunded=True) == "met"
