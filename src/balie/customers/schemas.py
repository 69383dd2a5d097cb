"""API shapes for customers."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from balie.callbacks.schemas import CallbackOut
from balie.conversations.schemas import ConversationOut


class IdentityOut(BaseModel):
    kind: str
    value: str


class TimelineEntry(BaseModel):
    type: Literal["conversation", "merge", "callback"]
    at: dt.datetime
    conversation: ConversationOut | None = None
    callback: CallbackOut | None = None
    merged_id: int | None = None
    merged_name: str | None = None
    reason: str | None = None


class CustomerOut(BaseModel):
    id: int
    name: str
    display_name: str
    identities: list[IdentityOut]
    timeline: list[TimelineEntry]
    created_at: dt.datetime


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_id: int
