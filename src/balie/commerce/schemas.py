"""API shapes for orders, shipments and tracking events. Types are checked here; what a
value means (a currency, a negative quantity, an amount with three decimals) is checked by
the service, which names the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from balie.commerce.models import ORDER_STATUSES, TRACKING_STATUSES

Amount = Decimal | str  # "12.50" or 12.5: both exact once parsed


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=300, description="the shop's own customer id")


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(default="", max_length=64)
    name: str = Field(max_length=300)
    quantity: int
    price: Amount = Field(description="per unit, in the order's currency")
    cost_price: Amount | None = Field(default=None, description="per unit; shown to agents only")


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    end: AwareDatetime


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(max_length=64, description="the shop's order number; the same number again updates it")
    customer: CustomerIn = Field(default_factory=CustomerIn)
    lines: list[LineIn] = Field(default_factory=list, max_length=500)
    total: Amount
    currency: str = Field(max_length=8, description="ISO 4217, such as EUR")
    placed_at: AwareDatetime
    promised_delivery_date: dt.date | None = Field(default=None, description="the date promised at checkout")
    promised_delivery_window: WindowIn | None = Field(default=None, description="or the window promised")
    status: str = Field(default="open", description=" / ".join(ORDER_STATUSES))
    payment_status: str | None = Field(default="", max_length=32)
    external_id: str | None = Field(default=None, max_length=64, description="the platform's own id")
    updated_at: AwareDatetime | None = Field(default=None, description="when the shop last changed it: an older "
                                                                       "update than the one Balie holds is ignored")


class ShipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_number: str = Field(max_length=64, description="may name an order Balie does not know yet")
    carrier: str = Field(max_length=64)
    tracking_code: str = Field(max_length=128)
    tracking_url: str | None = Field(default=None, max_length=2000)


class TrackingEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(max_length=64, description=" / ".join(TRACKING_STATUSES))
    occurred_at: AwareDatetime
    description: str | None = Field(default="", max_length=1000)


class LineOut(BaseModel):
    sku: str
    name: str
    quantity: int
    price: Decimal
    cost_price: Decimal | None


class TrackingEventOut(BaseModel):
    id: int
    status: str
    occurred_at: dt.datetime
    description: str
    raw_status: str
    source: str


class ShipmentOut(BaseModel):
    id: int
    order_id: int | None
    order_number: str
    carrier: str
    tracking_code: str
    tracking_url: str | None
    status: str | None
    status_at: dt.datetime | None
    delivered_at: dt.datetime | None
    events: list[TrackingEventOut]


class PromiseOut(BaseModel):
    date: dt.date | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None


class LatestPromiseOut(PromiseOut):
    revised: bool = Field(description="true: the new date the customer was told after the checkout promise broke")


class OrderOut(BaseModel):
    id: int
    number: str
    source: str
    external_id: str | None
    customer_id: int | None
    status: str
    payment_status: str
    total: Decimal
    currency: str
    placed_at: dt.datetime
    promise: PromiseOut = Field(description="the promise made at checkout")
    latest_promise: LatestPromiseOut = Field(
        description="what the customer was last promised: the checkout promise, or the new date they were told "
                    "after it broke (docs/promises.md)")
    delivery_status: str | None
    delivered_at: dt.datetime | None
    lines: list[LineOut]
    shipments: list[ShipmentOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class ConnectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(default=None, max_length=256, description="the platform's signing secret; "
                                                                        "empty for tracking: Balie makes one")
    api_url: str | None = Field(default=None, max_length=2000, description="WooCommerce: the shop's address")
    api_key: str | None = Field(default=None, max_length=256, description="WooCommerce REST consumer key")
    api_secret: str | None = Field(default=None, max_length=256, description="WooCommerce REST consumer secret")


class ConnectionOut(BaseModel):
    platform: str
    webhook_url: str = Field(description="the address to give the platform (path; prefix with Balie's host)")
    api_url: str | None
    secret: str | None = Field(description="only in the answer to PUT: never shown again")
    updated_at: dt.datetime


class ConnectionList(BaseModel):
    items: list[ConnectionOut]
