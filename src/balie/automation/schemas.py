"""API shapes for automation rules and their runs. Conditions and actions are checked by the
service (conditions.py, actions.py), which names the condition or action that is wrong."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1 to 200 characters")
    trigger: str = Field(description="message_received, conversation_created, conversation_updated, "
                                     "sla_near_breach, sla_breached, pending_for, callback_overdue or "
                                     "promise_broken")
    hours: int | None = Field(default=None, description="pending_for only: hours pending, 1 to 2160")
    conditions: list[Any] = Field(default_factory=list, description='[{"field", "op", "value"}], all must hold')
    actions: list[Any] = Field(description='[{"action", "value"}] in order (follow_up also has "note")')
    enabled: bool = True


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    trigger: str | None = None
    hours: int | None = None
    conditions: list[Any] | None = None
    actions: list[Any] | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    id: int
    name: str
    position: int = Field(description="rules run lowest first")
    enabled: bool
    trigger: str
    hours: int | None
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    created_at: dt.datetime
    updated_at: dt.datetime


class RuleList(BaseModel):
    items: list[RuleOut]


class RuleOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule_ids: list[int] = Field(description="every rule of the shop once, in the order they run", max_length=1000)


class ActionResult(BaseModel):
    action: str
    ok: bool
    detail: str


class RuleRunOut(BaseModel):
    id: int
    rule_id: int | None = Field(description="None once the rule was deleted; rule_name keeps its name")
    rule_name: str
    trigger: str
    event_key: str
    outcome: Literal["fired", "skipped", "failed"]
    reason: str = Field(description="why it fired (or did not), or what went wrong")
    results: list[ActionResult]
    at: dt.datetime


class RuleRunList(BaseModel):
    items: list[RuleRunOut]
