"""API shapes for the shop's own settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ShopOut(BaseModel):
    id: int
    name: str
    public_key: str
    language: str
    webhook_url: str | None
    webhook_secret: str | None = Field(description="only shown to admins")
    reopen_window_days: int | None


class ShopPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    language: Literal["nl", "en"] | None = None
    webhook_url: str | None = Field(default=None, max_length=2000)
    reopen_window_days: int | None = Field(default=None, ge=0, le=365)
