"""When a call-back is due: the shop's `callback` opening hours decide (see docs/callbacks.md).
The one place that asks the opening hours."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from balie.errors import Invalid
from balie.hours import service as hours_service

CHANNEL = "callback"


def asap(session: Session, shop_id: int, at: dt.datetime, minutes: int) -> dt.datetime:
    """`minutes` after `at` while the call-back hours are open, else after the next opening.
    A shop without call-back hours calls back at any time (always open)."""
    week = hours_service.load(session, shop_id, CHANNEL)
    if not week.configured:
        return at + dt.timedelta(minutes=minutes)
    return hours_service.promise_due(week, at, minutes)


def in_window(session: Session, shop_id: int, now: dt.datetime, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """The first moment from the window's start (or from now, when it has begun) that the shop
    calls back; a window the shop never calls in is refused rather than quietly missed."""
    due = asap(session, shop_id, max(start, now), 0)
    if due >= end:
        raise Invalid("the shop does not call back in that window: pick a time within its call-back hours",
                      code="window_outside_hours")
    return due
