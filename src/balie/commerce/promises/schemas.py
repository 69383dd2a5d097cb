"""API shapes for promise settings, vouchers, breaches and the figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

Amount = Decimal | str


class TemplateIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(max_length=300)
    body: str = Field(max_length=5000)


class RuleIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_days_late: int = Field(description="from this many days late (1 or more)")
    min_order_total: Amount = Field(default="0.00", description="only for orders of at least this total")
    amount: Amount = Field(description="the voucher, in the order's currency")


class PromiseSettingsIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(description="watch promises and tell customers; off until an admin saves it on")
    cutoff: str = Field(default="22:00", max_length=5,
                        description="local time on the day before the promised date by which the parcel "
                                    "needs its first carrier scan")
    transit_days: int = Field(default=2, description="days in transit before a parcel counts as stuck")
    carriers: dict[str, int] = Field(default_factory=dict, description="transit days per carrier name")
    extra_days: int = Field(default=1, description="days a recovered parcel needs (the new expected date)")
    channel: str = Field(default="auto", description="auto: the conversation or chat the customer uses, else "
                                                     "e-mail; email: always e-mail unless they asked already")
    templates: dict[str, TemplateIO] = Field(default_factory=dict, description="per language (nl, en)")
    compensation: list[RuleIO] | None = Field(default=None, max_length=20,
                                              description="left out: the default rules; [] for no vouchers")


class PromiseSettingsOut(PromiseSettingsIO):
    saved: bool = Field(description="false: nothing saved yet, these are the defaults")
    enabled_at: dt.datetime | None = Field(description="when watching was turned on: promises broken before "
                                                       "are left alone")
    variables: list[str]


class VoucherOut(BaseModel):
    id: int
    code: str
    amount: Decimal
    currency: str
    order_id: int
    customer_id: int | None
    reason: str
    created_at: dt.datetime


class BreachOut(BaseModel):
    id: int
    generation: int
    rule: str
    promised_date: dt.date
    new_expected_date: dt.date
    broken_at: dt.datetime
    detected_at: dt.datetime
    state: str
    acted_at: dt.datetime | None
    channel: str | None
    conversation_id: int | None
    customer_asked_first: bool
    note: str


class VoucherList(BaseModel):
    items: list[VoucherOut]


class BreachList(BaseModel):
    items: list[BreachOut]


class VoucherTotal(BaseModel):
    currency: str
    amount: Decimal


class PromiseStatsOut(BaseModel):
    since: dt.datetime
    broken: int = Field(description="promises found broken (first breaches)")
    told_first: int = Field(description="of those, told to the customer before they contacted us")
    told_first_share: float | None = Field(description="told_first / broken; null when nothing broke")
    customer_asked_first: int
    unreachable: int
    escalated: int = Field(description="second breaches given to a human")
    median_seconds_to_notice: float | None = Field(description="from detection to the notice being sent")
    vouchers: int
    voucher_amounts: list[VoucherTotal]
