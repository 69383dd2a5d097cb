"""API shapes for conversations and messages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["open", "pending", "snoozed", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]


class AgentRef(BaseModel):
    id: int
    name: str
    email: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    direction: Literal["in", "out", "note"]
    channel: str
    text: str
    full_text: str = Field(description="the whole body; for e-mail `text` leaves out quoted history and signature")
    html: str | None
    raw_url: str | None = Field(default=None, description="the raw source as received (e-mail: message/rfc822)")
    flags: list[str] = Field(default_factory=list, description="auto_reply, bounce, held, unparsable")
    author_type: Literal["customer", "agent", "system"]
    author_id: int | None
    author_name: str
    delivery_state: str | None
    delivery_error: str | None
    attachments: list[AttachmentOut]
    created_at: dt.datetime


SlaState = Literal["on_track", "due_soon", "breached", "paused", "met"]


class SlaOut(BaseModel):
    first_response_due_at: dt.datetime | None = Field(description="while the first-response timer runs")
    next_response_due_at: dt.datetime | None = Field(description="while the next-response timer runs")
    resolution_due_at: dt.datetime | None = Field(description="while the resolution timer runs")
    state: SlaState | None = Field(description="the worst of the timers; null when no promise was ever made")
    calendar_fallback: bool = Field(
        default=False, description="business time was asked, but the channel has no opening hours: counted "
                                   "around the clock")


class ConversationOut(BaseModel):
    id: int
    status: Status
    channel: str
    subject: str
    customer_id: int
    customer_name: str
    customer_block_state: Literal["blocked", "muted"] | None = Field(
        default=None, description="the customer is blocked or muted (customers/blocking.py); null when neither")
    assignee: AgentRef | None
    team_id: int | None
    tags: list[str]
    priority: Priority
    preview: str
    message_count: int
    snoozed_until: dt.datetime | None
    waiting_since: dt.datetime | None
    first_response_at: dt.datetime | None
    last_activity_at: dt.datetime
    created_at: dt.datetime
    sla: SlaOut


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]
    order_numbers: list[str] = Field(default_factory=list,
                                     description="the shop's order numbers the customer's messages mention")


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class ConversationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    assignee_id: int | None = Field(default=None, description="an agent id; null unassigns")
    priority: Priority | None = None
    tags: list[str] | None = Field(default=None, max_length=20)
    snooze_until: dt.datetime | None = None


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    status: Literal["open", "pending", "resolved", "closed"] | None = Field(
        default="pending",
        description="status after the reply; pending (waiting on the customer) by default",
    )


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
