"""The shop: every other row belongs to one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, created_at, pk


class Shop(Base):
    __tablename__ = "shop"

    id: Mapped[int] = pk()
    name: Mapped[str] = mapped_column(String(200))
    # Public key: identifies the shop in public places (chat widget tag); not a secret.
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Outbound replies on the generic API channel are POSTed here, signed with webhook_secret.
    webhook_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    webhook_secret: Mapped[str] = mapped_column(String(128))
    reopen_window_days: Mapped[int | None] = mapped_column(Integer, default=None)
    language: Mapped[str] = mapped_column(String(8), default="nl")
    # Opening hours, SLA clocks and promises are counted in this zone (IANA name).
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    # Whose public holidays close the shop's channels: "NL", "BE", or NULL for none.
    holiday_country: Mapped[str | None] = mapped_column(String(2), default="NL")
    created_at: Mapped[dt.datetime] = created_at()
