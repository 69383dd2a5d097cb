"""Opening hours: per shop and channel, a weekly schedule with several intervals a day,
in the shop's time zone (`shop.time_zone`), and the dated days (closures, extra openings) that
replace a weekday's hours on one date."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, ShopScopedByComposite, pk

# Channels with hours of their own; `callback` is when the shop calls back.
HOURS_CHANNELS = ("chat", "phone", "email", "whatsapp", "callback")


class OpeningInterval(ShopScopedByComposite, Base):
    __tablename__ = "opening_interval"
    __table_args__ = (
        Index("ix_opening_interval_lookup", "shop_id", "channel", "weekday"),
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint("opens >= 0 AND opens < closes AND closes <= 1440", name="minutes"),
    )

    id: Mapped[int] = pk()
    channel: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday ... 6 = Sunday
    opens: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    closes: Mapped[int] = mapped_column(Integer)  # minutes after local midnight, up to 1440


class DatedHours(ShopScopedByComposite, Base):
    """A date that differs from the week: a closure (`opens` and `closes` both NULL) or one
    opening on it. A date's rows replace its weekday's hours; rows for one channel win over
    rows for every channel (`channel` NULL). Public holidays are not stored: they come from
    the shop's `holiday_country`, and these rows go on top."""

    __tablename__ = "dated_hours"
    __table_args__ = (
        Index("ix_dated_hours_lookup", "shop_id", "day"),
        CheckConstraint("(opens IS NULL AND closes IS NULL) OR (opens >= 0 AND opens < closes AND closes <= 1440)",
                        name="minutes"),
    )

    id: Mapped[int] = pk()
    channel: Mapped[str | None] = mapped_column(String(16), default=None)  # NULL: every channel
    day: Mapped[dt.date] = mapped_column(Date)  # a local date in the shop's zone
    opens: Mapped[int | None] = mapped_column(Integer, default=None)  # NULL with closes: closed
    closes: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str] = mapped_column(String(200), default="")
