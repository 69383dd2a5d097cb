"""API shapes for a shop's SLA targets and its automatic acknowledgements."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from balie.sla.acknowledgement_settings import CHANNELS
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


class AcknowledgementsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: dict[str, StrictBool] = Field(
        description=f"channel → on or off, for any of {', '.join(CHANNELS)}; a channel left out keeps its setting")

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, channels: dict[str, bool]) -> dict[str, bool]:
        # Refused as a whole, before anything is switched: a typo ("e-mail") passed over in silence
        # would leave the admin believing it on.
        unknown = [name for name in channels if name not in CHANNELS]
        if unknown:
            named = ", ".join(repr(name[:40]) for name in unknown[:3]) + (", ..." if len(unknown) > 3 else "")
            raise PydanticCustomError(
                "unknown_channel", "unknown {channel} {named}: automatic acknowledgements exist for {known}",
                {"channel": "channels" if len(unknown) > 1 else "channel", "named": named,
                 "known": ", ".join(CHANNELS)})
        return channels


class AcknowledgementsOut(BaseModel):
    channels: dict[str, bool] = Field(description="every channel that can acknowledge, on (true) or off")
