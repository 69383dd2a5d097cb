"""Opening hours of a shop: load a channel's week from the database, replace it, set the
shop's time zone. The questions (open now? next opening? promise due?) are pure functions in
`balie.hours.schedule`, re-exported here so callers need one import:

    from balie.hours import service as hours_service
    week = hours_service.load(session, shop_id, "callback")
    due = hours_service.promise_due(week, clock.now(), 30)
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from balie.errors import Invalid, NotFound
from balie.hours.models import HOURS_CHANNELS, OpeningInterval
from balie.hours.schedule import (
    Interval,
    NoHours,
    Schedule,
    closes_at,
    describe_day,
    hhmm,
    is_open,
    next_open,
    parse_day,
    promise_due,
    schedule,
    validate,
    zone,
)
from balie.shops.models import Shop

__all__ = [
    "HOURS_CHANNELS", "Interval", "NoHours", "Schedule", "closes_at", "describe_day", "hhmm", "is_open",
    "load", "load_all", "next_open", "parse_day", "promise_due", "replace", "schedule", "set_time_zone",
    "validate", "zone",
]


def check_channel(channel: str) -> str:
    if channel not in HOURS_CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(HOURS_CHANNELS)}", code="invalid_channel")
    return channel


def _time_zone(session: Session, shop_id: int) -> str:
    name = session.scalar(select(Shop.time_zone).where(Shop.id == shop_id))
    if name is None:
        raise NotFound(f"shop {shop_id} not found")
    return name


def load_all(session: Session, shop_id: int, *, time_zone: str | None = None) -> dict[str, Schedule]:
    """Every channel's week (an empty Schedule for a channel without hours), in one query.
    Pass `time_zone` when the shop row is at hand, to save reading it."""
    tz = zone(time_zone if time_zone is not None else _time_zone(session, shop_id))
    rows = session.execute(
        select(OpeningInterval.channel, OpeningInterval.weekday, OpeningInterval.opens, OpeningInterval.closes)
        .where(OpeningInterval.shop_id == shop_id)
    ).all()
    by_channel: dict[str, list[Interval]] = {channel: [] for channel in HOURS_CHANNELS}
    for channel, weekday, opens, closes in rows:
        by_channel.setdefault(channel, []).append(Interval(weekday, opens, closes))
    # Stored rows passed validation (and the table's checks) when they were written.
    return {channel: Schedule(zone=tz, intervals=tuple(sorted(found))) for channel, found in by_channel.items()}


def load(session: Session, shop_id: int, channel: str, *, time_zone: str | None = None) -> Schedule:
    """One channel's week in the shop's zone."""
    check_channel(channel)
    tz = zone(time_zone if time_zone is not None else _time_zone(session, shop_id))
    rows = session.execute(
        select(OpeningInterval.weekday, OpeningInterval.opens, OpeningInterval.closes)
        .where(OpeningInterval.shop_id == shop_id, OpeningInterval.channel == channel)
    ).all()
    return Schedule(zone=tz, intervals=tuple(sorted(Interval(*row) for row in rows)))


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
