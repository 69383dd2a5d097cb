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


class BlockOut(BaseModel):
    """A blocked or muted customer: since when, by whom (None: a rule or a deleted agent), why."""

    mode: Literal["blocked", "muted"]
    since: dt.datetime | None
    by_agent_id: int | None
    by_agent_name: str | None
    reason: str


class CustomerOut(BaseModel):
    id: int
    name: str
    display_name: str
    # "nl" or "en" as read from their messages, or None while unknown.
    language: str | None = None
    block: BlockOut | None = None
    # Alphabetical; spelled as stored (lower case, spaces as "-").
    tags: list[str]
    identities: list[IdentityOut]
    timeline: list[TimelineEntry]
    created_at: dt.datetime


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_id: int


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the service (a clear `invalid_mode`), not here: a wrong word is not malformed JSON.
    mode: str
    reason: str = ""


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the service (`invalid_tag`, `invalid_text`), not here: a tag too long is not malformed JSON.
    tag: str
