"""API shapes for call-backs."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    end: AwareDatetime


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=64, description="any usual spelling; Dutch (or, in a Brussels shop, Belgian) "
                                                  "without a country code")
    name: str | None = Field(default=None, max_length=200)
    topic: str | None = Field(default=None, max_length=2000)
    window: WindowIn | None = Field(default=None, description="null or absent: as soon as possible")
    email: str | None = Field(default=None, max_length=320)
    conversation_id: int | None = Field(default=None, description="the conversation it was asked from")
    language: Literal["nl", "en"] | None = Field(default=None, description="the customer's; default the shop's")


class AttemptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["reached", "no_answer", "wrong_number"]
    note: str | None = Field(default=None, max_length=2000)


class WindowOut(BaseModel):
    start: dt.datetime
    end: dt.datetime


class PromiseOut(BaseModel):
    nl: str
    en: str


class AttemptOut(BaseModel):
    outcome: str
    note: str
    agent_id: int | None
    created_at: dt.datetime


class CallbackOut(BaseModel):
    id: int
    phone: str
    due_at: dt.datetime
    status: str
    overdue: bool
    promise: PromiseOut
    name: str
    topic: str
    window: WindowOut | None
    attempts: int
    max_attempts: int
    source: str
    language: str
    customer_id: int
    customer_name: str | None = None
    conversation_id: int | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    history: list[AttemptOut]


class CallbackPage(BaseModel):
    items: list[CallbackOut]
    next_cursor: str | None
