"""Call-me-back requests: a promise to call a phone number by a due time, and every try."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, ShopScoped, ShopScopedByComposite, UTCDateTime, created_at, pk

CALLBACK_STATUSES = ("open", "reached", "wrong_number", "gave_up", "cancelled")
OUTCOMES = ("reached", "no_answer", "wrong_number")
SOURCES = ("widget", "api", "agent")


class Callback(ShopScopedByComposite, Base):
    __tablename__ = "callback"
    __table_args__ = (Index("ix_callback_queue", "shop_id", "status", "due_at", "id"),)

    id: Mapped[int] = pk()
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("conversation.id", ondelete="SET NULL"), default=None, index=True
    )
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    name: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str] = mapped_column(Text, default="")
    # None and None: as soon as possible; else the customer's window.
    window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    window_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="api")
    language: Mapped[str] = mapped_column(String(8), default="nl")
    assignee_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("agent.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = created_at()
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class CallbackAttempt(ShopScoped, Base):
    __tablename__ = "callback_attempt"

    id: Mapped[int] = pk()
    callback_id: Mapped[int] = mapped_column(Id, ForeignKey("callback.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("agent.id", ondelete="SET NULL"), default=None)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = created_at()
