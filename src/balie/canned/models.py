"""Canned replies: saved answers with {{variables}} filled in per conversation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, ShopScoped, created_at, pk


class CannedReply(ShopScoped, Base):
    __tablename__ = "canned_reply"
    __table_args__ = (UniqueConstraint("shop_id", "shortcut"),)

    id: Mapped[int] = pk()
    title: Mapped[str] = mapped_column(String(200))
    shortcut: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at()
