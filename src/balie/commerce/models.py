"""Orders, their lines, shipments and the carrier's tracking events, as the shop's platform
(Shopify, WooCommerce, the REST API, a CSV file) tells them; plus the connections to those
platforms and the webhook deliveries already taken (so a repeat changes nothing).

Amounts are exact (`balie.db.Money`, two decimals) in the order's currency. An order's `number` is the shop's own
(what the customer quotes: "bestelling 10023"); the same number again is the same order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, Money, ShopScopedByComposite, UTCDateTime, created_at, pk

# Where a row came from: also which platform's connection signs its webhooks.
SOURCES = ("api", "csv", "shopify", "woocommerce", "tracking")
ORDER_STATUSES = ("open", "completed", "cancelled")
# Every carrier's and tracking service's statuses map onto these (commerce/tracking_status.py).
TRACKING_STATUSES = ("info_received", "in_transit", "out_for_delivery", "delivered", "delivery_failed",
                     "available_for_pickup", "exception", "returned_to_sender")
PLATFORMS = ("shopify", "woocommerce", "tracking")


class Order(ShopScopedByComposite, Base):
    __tablename__ = "commerce_order"
    __table_args__ = (
        UniqueConstraint("shop_id", "number"),
        Index("ix_commerce_order_customer", "shop_id", "customer_id", "placed_at"),
        # The platform's own id: how WooCommerce's order.deleted, Shopify's fulfillments and
        # privacy requests find the order. Not unique: two platforms' ids may be the same.
        Index("ix_commerce_order_external", "shop_id", "external_id"),
    )

    id: Mapped[int] = pk()
    number: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="api")
    external_id: Mapped[str | None] = mapped_column(String(64), default=None)  # the platform's own id
    customer_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("customer.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    payment_status: Mapped[str] = mapped_column(String(32), default="")
    total: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The promise made at checkout: a date in the shop's zone, or a window (both moments).
    promised_delivery_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    promised_window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    promised_window_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The newest shipment status, and when it was delivered (the withdrawal period starts there).
    delivery_status: Mapped[str | None] = mapped_column(String(24), default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The platform's own "updated at" of the version we hold: an older update never overwrites it.
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    updated_at: Mapped[dt.datetime] = created_at()
    created_at: Mapped[dt.datetime] = created_at()


class OrderLine(ShopScopedByComposite, Base):
    __tablename__ = "commerce_order_line"

    id: Mapped[int] = pk()
    order_id: Mapped[int] = mapped_column(Id, ForeignKey("commerce_order.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Money())  # per unit
    cost_price: Mapped[Decimal | None] = mapped_column(Money(), default=None)  # per unit, for "right or happy"


class Shipment(ShopScopedByComposite, Base):
    """A parcel. It may arrive before its order (`order_id` NULL, `order_number` kept): it is
    linked when an order with that number arrives."""

    __tablename__ = "commerce_shipment"
    __table_args__ = (
        UniqueConstraint("shop_id", "carrier", "tracking_code"),
        Index("ix_commerce_shipment_order", "shop_id", "order_id"),
        Index("ix_commerce_shipment_number", "shop_id", "order_number"),
    )

    id: Mapped[int] = pk()
    order_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("commerce_order.id", ondelete="SET NULL"), default=None
    )
    order_number: Mapped[str] = mapped_column(String(64))
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_code: Mapped[str] = mapped_column(String(128))
    tracking_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    source: Mapped[str] = mapped_column(String(16), default="api")
    external_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # The newest event's status and moment: an event that happened earlier does not replace them.
    status: Mapped[str | None] = mapped_column(String(24), default=None)
    status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    updated_at: Mapped[dt.datetime] = created_at()
    created_at: Mapped[dt.datetime] = created_at()


class TrackingEvent(ShopScopedByComposite, Base):
    """One scan. The same status at the same moment for a parcel is one event (a repeat
    delivery is dropped by the unique key)."""

    __tablename__ = "commerce_tracking_event"
    __table_args__ = (UniqueConstraint("shipment_id", "status", "occurred_at"),)

    id: Mapped[int] = pk()
    shipment_id: Mapped[int] = mapped_column(Id, ForeignKey("commerce_shipment.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    description: Mapped[str] = mapped_column(Text, default="")
    # What the carrier or platform called it before normalising ("InTransit", "attempted_delivery").
    raw_status: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(16), default="api")
    created_at: Mapped[dt.datetime] = created_at()


class Connection(Base):
    """A shop's link to a platform: the secret its webhooks are signed with and, for
    WooCommerce, where and how to pull recent orders."""

    __tablename__ = "commerce_connection"

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    secret: Mapped[str] = mapped_column(String(256))
    api_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    api_key: Mapped[str | None] = mapped_column(String(256), default=None)
    api_secret: Mapped[str | None] = mapped_column(String(256), default=None)
    # WooCommerce's reconciliation pull (commerce/woocommerce/pull.py): orders modified after
    # `last_pulled_at` (the shop's own clock) are asked for next; when it is due, who holds it,
    # and how it last went.
    last_pulled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    pull_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    pull_locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    pull_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pull_error: Mapped[str] = mapped_column(String(500), default="", server_default="")
    updated_at: Mapped[dt.datetime] = created_at()
    created_at: Mapped[dt.datetime] = created_at()


class WebhookDelivery(Base):
    """A platform's delivery id (`X-Shopify-Webhook-Id`, ...) seen for a shop: the same
    delivery twice is answered 200 and changes nothing."""

    __tablename__ = "commerce_webhook_delivery"

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), default="")
    received_at: Mapped[dt.datetime] = created_at()
