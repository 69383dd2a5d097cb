"""The outbox: a reply and its delivery job are written in one transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, ShopScoped, UTCDateTime, created_at, pk

# pending → sending → sent | (back to pending with a later next_attempt_at) | failed
STATES = ("pending", "sending", "sent", "failed")


class OutboxEntry(ShopScoped, Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = pk()
    message_id: Mapped[int] = mapped_column(
        Id, ForeignKey("message.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # A claimed entry belongs to one worker until this time; a crashed worker's claim expires.
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(String(1000), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[dt.datetime] = created_at()
