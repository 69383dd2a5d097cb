"""Due work: one row per thing that has to happen at a moment (a follow-up, a timer), kept in
the database so that no restart or crashed worker loses it. See docs/scheduling.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, ShopScopedByComposite, UTCDateTime, created_at, pk

# pending → done | (pending again, later, after a failure) | failed; pending → cancelled.
STATES = ("pending", "done", "failed", "cancelled")


class DueJob(ShopScopedByComposite, Base):
    __tablename__ = "due_job"
    __table_args__ = (
        # Scheduling the same thing for the same moment twice is one job; the index also
        # serves "the jobs of this kind about this conversation".
        UniqueConstraint("shop_id", "kind", "ref_id", "due_at"),
        # The workers' claim: pending jobs whose (next) attempt is due, earliest first.
        Index("ix_due_job_claim", "state", "next_attempt_at"),
    )

    id: Mapped[int] = pk()
    kind: Mapped[str] = mapped_column(String(40))
    # What the job is about, for example a conversation id; its kind says which table.
    ref_id: Mapped[int] = mapped_column(Id)
    # The moment it was scheduled for; never moves, so the unique key keeps meaning "this one".
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # due_at at first; later after each failed attempt (backoff).
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[dt.datetime] = created_at()
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
