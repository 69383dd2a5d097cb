"""The chat widget: a shop's widget settings, and the browsers (visitors) that chat.

A visitor is a browser that opened the widget on the shop's site. It keeps a random token
(stored here hashed) in the browser, so the conversation survives navigation, reloads and a
closed tab. It stays anonymous until the shop vouches for it with a signed customer token.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, ShopScoped, UTCDateTime, created_at, pk


class WidgetSettings(Base):
    """One row per shop that set up its widget; defaults apply until the row exists."""

    __tablename__ = "widget_settings"

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Signs customer tokens (HMAC-SHA256): a secret the shop's server keeps, never the page.
    secret: Mapped[str] = mapped_column(String(128))
    # Sites allowed to embed the widget, one origin a line (https://shop.example); empty: any.
    allowed_origins: Mapped[str] = mapped_column(Text, default="")
    # What reachability shows besides chat (empty: not offered).
    phone: Mapped[str] = mapped_column(String(32), default="")
    whatsapp: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    # The call-back promise: "we call you within N minutes" while phone hours are open.
    callback_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # Tries before a call-back gives up and the customer gets a message instead.
    callback_attempts: Mapped[int] = mapped_column(Integer, default=3)
    updated_at: Mapped[dt.datetime] = created_at()


class ChatVisitor(ShopScoped, Base):
    __tablename__ = "chat_visitor"

    id: Mapped[int] = pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Public, stable name of this browser: the `visitor` identity's value ("v_...").
    key: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("customer.id", ondelete="SET NULL"), default=None, index=True
    )
    # True only after a valid signed customer token: then customer_id is the shop's customer.
    verified: Mapped[bool] = mapped_column(default=False)
    conversation_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("conversation.id", ondelete="SET NULL"), default=None
    )
    language: Mapped[str] = mapped_column(String(8), default="nl")
    # The last agent message the visitor has seen (for "seen" and the unread badge).
    seen_message_id: Mapped[int | None] = mapped_column(Id, default=None)
    # The last visitor message an agent has seen (the visitor's "seen" ticks).
    agent_seen_message_id: Mapped[int | None] = mapped_column(Id, default=None)
    visits: Mapped[int] = mapped_column(Integer, default=1)
    last_seen_at: Mapped[dt.datetime] = created_at()
    created_at: Mapped[dt.datetime] = created_at()
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
