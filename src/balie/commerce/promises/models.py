"""The shop's promise settings (cut-off, transit days per carrier, notice templates,
compensation rules), every promise found broken (one row per order and promise generation:
the key that makes each breach acted on once), and the vouchers given."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from balie.commerce.models import Order, Shipment
from balie.db import Base, Id, Money, ShopScopedByComposite, UTCDateTime, created_at, pk

RULES = ("cutoff", "passed", "exception", "stuck")
# new: found, not yet acted on; notified: the customer was told; unreachable: no way to tell
# them, agents got a note; escalated: a second breach, given to a human; closed: nothing to do
# any more (the order was delivered or cancelled before it was acted on).
STATES = ("new", "notified", "unreachable", "escalated", "closed", "failed")
CHANNEL_PREFERENCES = ("auto", "email")
LANGUAGES = ("nl", "en")

# The monitor reads only open, undelivered orders with a promise; these partial indexes hold
# just those (on a million orders, mostly delivered ones, they stay small). They are declared
# here, beside the monitor that needs them, so the commerce core stays as it is.
_OPEN = "status = 'open' AND delivered_at IS NULL"
Index("ix_commerce_order_promise_date", Order.shop_id, Order.promised_delivery_date,
      postgresql_where=sql(f"{_OPEN} AND promised_delivery_date IS NOT NULL"),
      sqlite_where=sql(f"{_OPEN} AND promised_delivery_date IS NOT NULL"))
Index("ix_commerce_order_promise_window", Order.shop_id, Order.promised_window_start,
      postgresql_where=sql(f"{_OPEN} AND promised_window_start IS NOT NULL"),
      sqlite_where=sql(f"{_OPEN} AND promised_window_start IS NOT NULL"))
Index("ix_commerce_order_promise_status", Order.shop_id, Order.delivery_status,
      postgresql_where=sql(_OPEN), sqlite_where=sql(_OPEN))
# Parcels in transit by since when: the "stuck" rule reads only the old ones.
Index("ix_commerce_shipment_in_transit", Shipment.shop_id, Shipment.status_at,
      postgresql_where=sql("status = 'in_transit'"), sqlite_where=sql("status = 'in_transit'"))


class PromiseSettings(Base):
    """No row: the shop does not watch its promises (nothing is sent before an admin says so)."""

    __tablename__ = "promise_settings"

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Local time (the shop's zone) on the day before the promised date by which the parcel
    # must have its first carrier scan ("22:00").
    cutoff: Mapped[str] = mapped_column(String(5), default="22:00")
    # Days in transit before a parcel counts as stuck, for carriers without their own.
    transit_days: Mapped[int] = mapped_column(Integer, default=2)
    # Days a recovered parcel needs: the new expected date is the later of the promised date
    # and today, plus these (never a Sunday).
    extra_days: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(8), default="auto")
    # When watching was last turned on: promises that broke before are not the monitor's (a
    # shop turning it on does not mail every customer of the past months).
    enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    updated_at: Mapped[dt.datetime] = created_at()


class CarrierTransit(Base):
    __tablename__ = "promise_carrier_transit"

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(64), primary_key=True)  # as the shipments name it
    days: Mapped[int] = mapped_column(Integer)


class NoticeTemplate(Base):
    __tablename__ = "promise_template"

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(2), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)


class CompensationRule(ShopScopedByComposite, Base):
    """From `min_days_late` days late and an order total of at least `min_order_total`, a
    voucher of `amount` (in the order's currency). The matching rule with the most days wins."""

    __tablename__ = "promise_compensation_rule"
    __table_args__ = (Index("ix_promise_compensation_rule_shop", "shop_id", "min_days_late"),)

    id: Mapped[int] = pk()
    min_days_late: Mapped[int] = mapped_column(Integer)
    min_order_total: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())


class Breach(ShopScopedByComposite, Base):
    """A promise found broken. Generation 1 is the promise made at checkout; its breach sets
    the new expected date, which is generation 2's promise."""

    __tablename__ = "promise_breach"
    __table_args__ = (
        UniqueConstraint("order_id", "generation"),
        # Breaches not acted on yet, oldest first (the notifier's queue).
        Index("ix_promise_breach_new", "detected_at", postgresql_where=sql("state = 'new'"),
              sqlite_where=sql("state = 'new'")),
        # First breaches whose new promise is still watched.
        Index("ix_promise_breach_watching", "shop_id", "new_expected_date", postgresql_where=sql("watching"),
              sqlite_where=sql("watching")),
        Index("ix_promise_breach_stats", "shop_id", "detected_at"),
    )

    id: Mapped[int] = pk()
    order_id: Mapped[int] = mapped_column(Id, ForeignKey("commerce_order.id", ondelete="CASCADE"))
    generation: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(16))
    promised_date: Mapped[dt.date] = mapped_column(Date)
    new_expected_date: Mapped[dt.date] = mapped_column(Date)
    broken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # when the promise broke
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(String(1000), default="")  # the carrier's words, the parcel
    state: Mapped[str] = mapped_column(String(16), default="new")
    watching: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    acted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    channel: Mapped[str | None] = mapped_column(String(16), default=None)
    conversation_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("conversation.id", ondelete="SET NULL"), default=None)
    message_id: Mapped[int | None] = mapped_column(Id, ForeignKey("message.id", ondelete="SET NULL"), default=None)
    # The customer had already written to us about it when we acted (we were not first).
    customer_asked_first: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    note: Mapped[str] = mapped_column(String(1000), default="")


class Voucher(ShopScopedByComposite, Base):
    __tablename__ = "promise_voucher"
    __table_args__ = (
        UniqueConstraint("shop_id", "code"),
        Index("ix_promise_voucher_order", "shop_id", "order_id"),
    )

    id: Mapped[int] = pk()
    code: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    order_id: Mapped[int] = mapped_column(Id, ForeignKey("commerce_order.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customer.id", ondelete="SET NULL"), default=None)
    breach_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("promise_breach.id", ondelete="SET NULL"), default=None)
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = created_at()
