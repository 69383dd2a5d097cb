"""Return cases (a customer withdraws from an order, or part of it), their lines, and each shop's
return settings and exceptions (docs/returns.md).

Amounts are exact (`balie.db.Money`) in the order's currency. Deadlines are local dates in the
shop's zone (what the law counts in: days), with the moment the refund promise breaks
(`refund_due_at`, the end of the due date) kept beside it for the due jobs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, Money, ShopScopedByComposite, UTCDateTime, created_at, pk

# Where the withdrawal came from.
SOURCES = ("agent", "api", "withdrawal_page")
# accept_all: every return is refunded in full (no deduction); resellable: goods must come back
# resellable with labels attached, and handling beyond what is needed to judge them may be deducted.
POLICIES = ("accept_all", "resellable")
# What the law lets a shop exclude (Directive 2011/83/EU art. 16 (c), (d), (e)).
EXCEPTION_KINDS = ("custom_made", "perishable", "sealed_hygiene")
# The state of goods on arrival, as the agent judges it.
CONDITIONS = ("unopened", "opened_to_judge", "handled", "damaged")
# The refund promise, as an SLA: met once the refund is recorded.
REFUND_STATES = ("on_track", "due_soon", "breached", "met")


class ReturnSettings(Base):
    """A shop's return policy and standard delivery cost (what a refund gives back of the
    delivery). A shop without a row has the defaults: resellable, the whole delivery paid."""

    __tablename__ = "return_settings"

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    policy: Mapped[str] = mapped_column(String(16), default="resellable")
    # The cheapest standard delivery the shop offers: a customer who paid more for faster
    # delivery gets this back, not the extra. NULL: whatever delivery was paid is refunded.
    standard_delivery_cost: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    updated_at: Mapped[dt.datetime] = created_at()


class ReturnException(ShopScopedByComposite, Base):
    """Goods the right of withdrawal does not cover in this shop, matched on a line's SKU prefix."""

    __tablename__ = "return_exception"
    __table_args__ = (UniqueConstraint("shop_id", "sku_prefix"),)

    id: Mapped[int] = pk()
    kind: Mapped[str] = mapped_column(String(16))
    sku_prefix: Mapped[str] = mapped_column(String(64))


class ReturnCase(ShopScopedByComposite, Base):
    __tablename__ = "return_case"
    __table_args__ = (
        # The same withdrawal (order and lines) twice is one case.
        UniqueConstraint("shop_id", "order_id", "lines_key"),
        Index("ix_return_case_order", "shop_id", "order_number"),
    )

    id: Mapped[int] = pk()
    order_id: Mapped[int] = mapped_column(Id, ForeignKey("commerce_order.id", ondelete="CASCADE"))
    order_number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customer.id", ondelete="SET NULL"), default=None)
    lines_key: Mapped[str] = mapped_column(String(64))  # sha256 of the lines and quantities withdrawn
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="nl")
    currency: Mapped[str] = mapped_column(String(3))
    withdrawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # when the customer said so
    # The withdrawal period: from the day after delivery; unknown delivery is never held against
    # the customer (in time, and marked so).
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    delivery_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    period_ends_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    in_time: Mapped[bool] = mapped_column(Boolean, default=True)
    # The customer's 14 days to send the goods back, and the shop's 14 days to refund.
    send_back_by: Mapped[dt.date] = mapped_column(Date)
    refund_due_on: Mapped[dt.date] = mapped_column(Date)
    refund_due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    refund_warn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The shop may withhold the refund until the goods are back or the customer shows they sent them.
    goods_received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    shipment_proof_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Of the delivery the customer paid, what is refunded: all of it when the whole order is
    # withdrawn (up to the standard delivery cost), nothing for part of it.
    delivery_refund: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    refunded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    refunded_amount: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    refund_reference: Mapped[str | None] = mapped_column(String(200), default=None)
    # The confirmation mail's conversation (withdrawal page), where agents see the case.
    conversation_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("conversation.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[dt.datetime] = created_at()
    created_at: Mapped[dt.datetime] = created_at()


class ReturnLine(ShopScopedByComposite, Base):
    __tablename__ = "return_line"
    __table_args__ = (Index("ix_return_line_case", "shop_id", "case_id"),)

    id: Mapped[int] = pk()
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("return_case.id", ondelete="CASCADE"))
    order_line_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("commerce_order_line.id", ondelete="SET NULL"), default=None
    )
    position: Mapped[int] = mapped_column(Integer)  # the order line's position
    sku: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Money())  # per unit, as ordered
    exception: Mapped[str | None] = mapped_column(String(16), default=None)  # an EXCEPTION_KINDS that applies
    condition: Mapped[str | None] = mapped_column(String(16), default=None)  # on arrival
    labels_attached: Mapped[bool | None] = mapped_column(Boolean, default=None)
    condition_notes: Mapped[str] = mapped_column(Text, default="")
    deduction: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))  # diminished value
    deduction_reason: Mapped[str] = mapped_column(Text, default="")
