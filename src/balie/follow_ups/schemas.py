"""API shapes for follow-ups."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_at: dt.datetime = Field(description="when, with a timezone; in the future, at most two years ahead")
    note: str = Field(description="what to check, 1 to 2000 characters; shown as text, never as HTML")


class FollowUpOut(BaseModel):
    id: int
    conversation_id: int
    due_at: dt.datetime
    note: str
    state: Literal["pending", "done", "failed", "cancelled"]
    agent_id: int | None = Field(description="who asked; the conversation goes back to them")
    created_at: dt.datetime
    done_at: dt.datetime | None = Field(description="when it came due (done), gave up (failed) or was cancelled")


class FollowUpList(BaseModel):
    items: list[FollowUpOut]
