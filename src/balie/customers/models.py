"""Customers and the identities (email, phone, chat visitor, ...) that point at them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, ShopScoped, ShopScopedByComposite, UTCDateTime, created_at, pk

IDENTITY_KINDS = ("email", "phone", "visitor", "social", "external")
# A blocked or muted customer's messages are stored and shown but cause nothing else
# (customers/blocking.py says how the two differ).
BLOCK_STATES = ("blocked", "muted")


class Customer(ShopScoped, Base):
    __tablename__ = "customer"

    id: Mapped[int] = pk()
    name: Mapped[str] = mapped_column(String(200), default="")
    # After a merge the absorbed customer stays as a tombstone pointing at the survivor,
    # so old links and ids keep resolving.
    merged_into_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("customer.id", ondelete="SET NULL"), default=None
    )
    # "nl" or "en" as read from their messages; "" until known (the shop's language is used).
    language: Mapped[str] = mapped_column(String(2), default="", server_default="")
    # "" (not blocked), "blocked" or "muted"; since when, by whom and why.
    block_state: Mapped[str] = mapped_column(String(8), default="", server_default="")
    blocked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    blocked_by_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("agent.id", ondelete="SET NULL"), default=None
    )
    block_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[dt.datetime] = created_at()


class Identity(ShopScopedByComposite, Base):
    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("shop_id", "kind", "value"),)

    id: Mapped[int] = pk()
    customer_id: Mapped[int] = mapped_column(
        Id, ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = created_at()


class CustomerTag(ShopScopedByComposite, Base):
    """A tag on a customer ("vip", "wholesale"): shown with the customer, checked by the automation
    rules' `customer_tags` condition. Spelled as conversation tags (balie/tagging.py)."""

    __tablename__ = "customer_tag"
    __table_args__ = (
        # Also the index for a customer's tags (customers/tags.py, the rules engine).
        UniqueConstraint("customer_id", "tag"),
        # The shop's customers with a tag.
        Index("ix_customer_tag_lookup", "shop_id", "tag", "customer_id"),
    )

    id: Mapped[int] = pk()
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customer.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(64))
