"""Opening hours: per shop and channel, a weekly schedule with several intervals a day,
in the shop's time zone (`shop.time_zone`). The SLA issue adds holidays and closures."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, Integer, String
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
