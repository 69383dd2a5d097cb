"""API shapes for returns. Types are checked here; what a value means (a quantity, an amount,
a line of the order) is checked by the service, which names the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from balie.returns.models import CONDITIONS, EXCEPTION_KINDS, POLICIES, REFUND_STATES

Amount = Decimal | str


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(default=None, max_length=64, description="the order line's SKU")
    position: int | None = Field(default=None, description="or the line's index in the order's lines (0 = first)")
    quantity: int
    exception: str | None = Field(default=None, description="the agent's category for this line: "
                                                            + " / ".join(EXCEPTION_KINDS))


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_number: str = Field(max_length=64)
    lines: list[ReturnLineIn] = Field(default_factory=list, max_length=500,
                                      description="empty: the whole order, as far as not yet withdrawn")
    reason: str | None = Field(default="", max_length=2000)
    withdrawn_at: AwareDatetime | None = Field(default=None, description="when the customer withdrew; default now")
    language: str = Field(default="nl", max_length=8, description="nl / en: the customer's language")
    source: str = Field(default="api", description="api, or agent (an agent recording what a customer said)")
    send_confirmation: bool = Field(default=False, description="e-mail the customer the confirmation now")


class ConditionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    condition: str = Field(max_length=32, description=" / ".join(CONDITIONS))
    notes: str | None = Field(default="", max_length=4000)
    labels_attached: bool | None = None


class DeductionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount = Field(description="diminished value for this line; 0 takes it back")
    reason: str = Field(default="", max_length=2000)


class ShipmentProofIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = Field(default=None, description="when the customer sent the goods; default now")


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    reference: str = Field(max_length=200, description="the payment provider's refund reference")


class ExceptionRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=32, description=" / ".join(EXCEPTION_KINDS))
    sku_prefix: str = Field(max_length=64)


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: str = Field(max_length=32, description=" / ".join(POLICIES))
    standard_delivery_cost: Amount | None = None
    exceptions: list[ExceptionRule] = Field(default_factory=list, max_length=200)


class SettingsOut(BaseModel):
    policy: str
    standard_delivery_cost: Decimal | None
    exceptions: list[ExceptionRule]


class ReturnLineOut(BaseModel):
    id: int
    position: int
    sku: str
    name: str
    quantity: int
    price: Decimal
    exception: str | None
    excluded: bool = Field(description="the shop keeps this line's value (sealed hygiene goods unsealed)")
    condition: str | None
    labels_attached: bool | None
    condition_notes: str
    resellable: bool | None = Field(description="under the resellable policy: came back fit to sell again")
    deduction: Decimal
    deduction_reason: str


class RefundOut(BaseModel):
    state: str = Field(description=" / ".join(REFUND_STATES))
    due_on: dt.date
    due_at: dt.datetime
    amount_due: Decimal
    delivery_refund: Decimal
    may_withhold: bool = Field(description="goods not back and no proof of sending: the shop may wait")
    refunded_at: dt.datetime | None
    refunded_amount: Decimal | None
    reference: str | None


class ReturnOut(BaseModel):
    id: int
    order_id: int
    order_number: str
    customer_id: int | None
    source: str
    reason: str
    language: str
    currency: str
    withdrawn_at: dt.datetime
    delivered_at: dt.datetime | None
    delivery_unknown: bool
    period_ends_on: dt.date | None
    in_time: bool
    send_back_by: dt.date
    goods_received_at: dt.datetime | None
    shipment_proof_at: dt.datetime | None
    conversation_id: int | None
    refund: RefundOut
    lines: list[ReturnLineOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class ReturnPage(BaseModel):
    items: list[ReturnOut]
    next_cursor: str | None
