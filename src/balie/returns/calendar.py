"""The shop's non-working days for deadlines: its country's public holidays and the days it is
closed altogether (a dated closure for every channel, src/balie/hours/)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie.errors import NotFound
from balie.hours import public_holidays
from balie.hours.models import DatedHours
from balie.hours.schedule import zone
from balie.shops.models import Shop


def of_shop(session: Session, shop_id: int, around: dt.datetime) -> tuple[ZoneInfo, frozenset[dt.date]]:
    """The shop's zone, and its closed dates in the years a deadline from `around` can reach."""
    row = session.execute(select(Shop.time_zone, Shop.holiday_country).where(Shop.id == shop_id)).first()
    if row is None:
        raise NotFound(f"shop {shop_id} not found")
    time_zone, country = row
    years = range(around.year - 1, around.year + 2)
    closed: set[dt.date] = set()
    if country in public_holidays.COUNTRIES:
        closed.update(public_holidays.public_holidays(country, years))
    closed.update(session.scalars(
        select(DatedHours.day).where(DatedHours.shop_id == shop_id, DatedHours.channel.is_(None),
                                     DatedHours.opens.is_(None), DatedHours.day >= dt.date(years.start, 1, 1))
    ))
    return zone(time_zone), frozenset(closed)
