"""A shop's own SLA targets. Without an `sla_policy` row the shop has the defaults
(`balie.sla.policy.default_policy()`); with one, exactly its `sla_target` rows are its promises
(a missing row: no promise of that kind on that channel and priority)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from balie import clock
from balie.db import Base, ShopScopedByComposite, UTCDateTime, pk


class SlaPolicy(ShopScopedByComposite, Base):
    __tablename__ = "sla_policy"
    __table_args__ = (
        UniqueConstraint("shop_id"),
        CheckConstraint("near > 0 AND near < 1", name="near"),
    )

    id: Mapped[int] = pk()
    near: Mapped[float] = mapped_column(Float)  # "due soon" from this share of the target on
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class SlaTarget(ShopScopedByComposite, Base):
    __tablename__ = "sla_target"
    __table_args__ = (
        UniqueConstraint("shop_id", "channel", "priority", "kind"),
        CheckConstraint("minutes >= 1 AND minutes <= 527040", name="minutes"),
    )

    id: Mapped[int] = pk()
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20))
    minutes: Mapped[int] = mapped_column(Integer)
    business: Mapped[bool] = mapped_column(Boolean)
