"""A shop's automation rules and the log of every time one was considered for an event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from balie import clock
from balie.db import Base, Id, ShopScoped, ShopScopedByComposite, UTCDateTime, created_at, pk

OUTCOMES = ("fired", "skipped", "failed")


class Rule(ShopScoped, Base):
    __tablename__ = "automation_rule"

    id: Mapped[int] = pk()
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)  # rules run lowest first
    enabled: Mapped[bool] = mapped_column(default=True)
    trigger: Mapped[str] = mapped_column(String(32))
    # The trigger's parameter: the hours of `pending_for`; None for the other triggers.
    hours: Mapped[int | None] = mapped_column(Integer, default=None)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class RuleRun(ShopScopedByComposite, Base):
    """One rule considered for one event: whether it fired, why, and what each action did.
    The unique key is what makes a rule run at most once per event."""

    __tablename__ = "automation_run"
    __table_args__ = (
        UniqueConstraint("rule_id", "event_key"),
        Index("ix_automation_run_conversation", "shop_id", "conversation_id", "id"),
    )

    id: Mapped[int] = pk()
    # Kept when the rule is deleted: the conversation still shows what happened, by name.
    rule_id: Mapped[int | None] = mapped_column(Id, ForeignKey("automation_rule.id", ondelete="SET NULL"))
    rule_name: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[int] = mapped_column(Id, ForeignKey("conversation.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    # [{"action": name, "ok": bool, "detail": text}], in the rule's order.
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
