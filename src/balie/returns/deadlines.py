"""The withdrawal's deadlines, in days as the law counts them (docs/returns.md, "Deadlines").
Pure: the shop's zone and its non-working days come in (calendar.py reads them).

- The withdrawal period is 14 days from the day the customer received the goods: the day
  after receipt is day 1, so goods received on 1 March may be withdrawn until 15 March.
- The refund is due 14 days after the day of the withdrawal; the customer has 14 days from
  then to send the goods back.
- A period whose last day is not a working day (Saturday, Sunday, a public holiday, a day the
  shop is closed) ends on the next working day (Regulation 1182/71 art. 3(4), which the
  Directive's recital 41 applies to its periods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PERIOD_DAYS = 14  # withdrawal period (art. 9), refund (art. 13), sending back (art. 14)
WARN_DAYS = 3  # the refund promise is "due soon" this long before it breaks


def working_day_from(day: dt.date, closed: Collection[dt.date]) -> dt.date:
    """`day` itself when it is a working day, else the first working day after it."""
    while day.weekday() >= 5 or day in closed:
        day += dt.timedelta(days=1)
    return day


def local_day(at: dt.datetime, zone: ZoneInfo) -> dt.date:
    return at.astimezone(zone).date()


def end_of(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first moment after a local day (its midnight), in UTC."""
    following = day + dt.timedelta(days=1)
    return dt.datetime(following.year, following.month, following.day, tzinfo=zone).astimezone(dt.UTC)


@dataclass(frozen=True)
class Deadlines:
    delivery_unknown: bool
    period_ends_on: dt.date | None  # None when delivery is unknown: the period has not started
    in_time: bool
    send_back_by: dt.date
    refund_due_on: dt.date
    refund_due_at: dt.datetime  # the refund promise breaks at this moment (end of the due day)
    refund_warn_at: dt.datetime


def compute(*, withdrawn_at: dt.datetime, delivered_at: dt.datetime | None, zone: ZoneInfo,
            closed: Collection[dt.date]) -> Deadlines:
    withdrawn_on = local_day(withdrawn_at, zone)
    if delivered_at is None:
        # Never assumed to the customer's detriment: without a delivery date the period has
        # not demonstrably ended, so the withdrawal is in time.
        period_ends_on, in_time = None, True
    else:
        period_ends_on = working_day_from(local_day(delivered_at, zone) + dt.timedelta(days=PERIOD_DAYS), closed)
        in_time = withdrawn_on <= period_ends_on
    due_on = working_day_from(withdrawn_on + dt.timedelta(days=PERIOD_DAYS), closed)
    due_at = end_of(due_on, zone)
    return Deadlines(
        delivery_unknown=delivered_at is None, period_ends_on=period_ends_on, in_time=in_time,
        send_back_by=due_on, refund_due_on=due_on, refund_due_at=due_at,
        refund_warn_at=due_at - dt.timedelta(days=WARN_DAYS),
    )


def refund_state(*, refunded: bool, due_at: dt.datetime, warn_at: dt.datetime, now: dt.datetime) -> str:
    """on_track, due_soon, breached or met: the refund promise as an SLA."""
    if refunded:
        return "met"
    if now >= due_at:
        return "breached"
    return "due_soon" if now >= warn_at else "on_track"
