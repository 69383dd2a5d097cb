"""The audit trail: append-only, one row per change, who did what to which object."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, ShopScoped, created_at, pk


class AuditEvent(ShopScoped, Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "shop_id", "object_type", "object_id"),)

    id: Mapped[int] = pk()
    actor_agent_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("agent.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Id)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = created_at()
