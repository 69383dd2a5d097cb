"""The generic API channel's inbound shape."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class InboundCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=320, description="the shop's own customer id")


class InboundMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: InboundCustomer
    subject: str | None = Field(default=None, max_length=500)
    text: str
    external_id: str | None = Field(default=None, min_length=1, max_length=500,
                                    description="your id for this message; sending it again is safe")


class IngestOut(BaseModel):
    conversation_id: int
    message_id: int
    customer_id: int
