"""API shapes for a shop's SLA targets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from balie.sla.targets import MAX_TARGETS

Kind = Literal["first_response", "next_response", "resolution"]


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(max_length=40, description="api, email, chat, phone, form, social or whatsapp")
    priority: str = Field(max_length=40, description="low, normal, high or urgent")
    kind: str = Field(max_length=40, description="first_response, next_response or resolution")
    minutes: int = Field(description="1 minute to a year (527040)")
    business: bool = Field(default=True, description="counted in the channel's opening hours, else around the clock")


class TargetOut(BaseModel):
    channel: str
    priority: str
    kind: Kind
    minutes: int
    business: bool


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    near: float = Field(default=0.8, description="'due soon' from this share of the target on (0 < near < 1)")
    targets: list[TargetIn] = Field(max_length=MAX_TARGETS * 2)


class PolicyOut(BaseModel):
    custom: bool = Field(description="false: the shop has the defaults")
    near: float
    targets: list[TargetOut]
