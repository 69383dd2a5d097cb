"""Proactive invitations: a shop's rules for inviting a hesitating shopper, what the widget
reports about the visit, and each invitation shown (for the counts per rule)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, ShopScoped, ShopScopedByComposite, UTCDateTime, created_at, pk

# checkout_idle: on a checkout page for `threshold` seconds without a next step;
# cart_value: cart worth at least `threshold` (shop currency);
# product_views: the same product seen on `threshold` different visits.
TRIGGERS = ("checkout_idle", "cart_value", "product_views")
ACTIONS = ("chat", "callback")
PAGE_KINDS = ("page_view", "product", "cart", "checkout")


class InvitationRule(ShopScoped, Base):
    __tablename__ = "invitation_rule"

    id: Mapped[int] = pk()
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    trigger: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[float] = mapped_column(Numeric(12, 2))
    action: Mapped[str] = mapped_column(String(16), default="chat")
    message_nl: Mapped[str] = mapped_column(Text, default="")
    message_en: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = created_at()


class PageEvent(ShopScopedByComposite, Base):
    __tablename__ = "page_event"
    __table_args__ = (Index("ix_page_event_visitor", "shop_id", "visitor_id", "id"),)

    id: Mapped[int] = pk()
    visitor_id: Mapped[int] = mapped_column(Id, ForeignKey("chat_visitor.id", ondelete="CASCADE"))
    visit: Mapped[int] = mapped_column(Integer)  # the visitor's visit number
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2000), default="")
    product: Mapped[str] = mapped_column(String(200), default="")
    cart_value: Mapped[float | None] = mapped_column(Numeric(12, 2), default=None)
    checkout_step: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = created_at()


class InvitationSettings(Base):
    """One row per shop that changed them; the defaults apply until the row exists."""

    __tablename__ = "invitation_settings"

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    # Invite to chat only when chat's expected first reply is at most this long.
    reply_target_seconds: Mapped[int] = mapped_column(Integer, default=120)
    updated_at: Mapped[dt.datetime] = created_at()


class Invitation(ShopScopedByComposite, Base):
    __tablename__ = "invitation"
    __table_args__ = (
        Index("ix_invitation_rule", "shop_id", "rule_id", "id"),
        # At most one invitation per visit, whoever inserts it first (two sockets of one browser).
        Index("uq_invitation_visit", "shop_id", "visitor_id", "visit", unique=True),
    )

    id: Mapped[int] = pk()
    rule_id: Mapped[int] = mapped_column(Id, ForeignKey("invitation_rule.id", ondelete="CASCADE"))
    visitor_id: Mapped[int] = mapped_column(Id, ForeignKey("chat_visitor.id", ondelete="CASCADE"), index=True)
    visit: Mapped[int] = mapped_column(Integer)
    shown_at: Mapped[dt.datetime] = created_at()
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    conversation_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("conversation.id", ondelete="SET NULL"), default=None
    )
    callback_id: Mapped[int | None] = mapped_column(Id, ForeignKey("callback.id", ondelete="SET NULL"), default=None)
