"""Conversations, their messages, tags and attachments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, ShopScoped, ShopScopedByComposite, UTCDateTime, created_at, pk

STATUSES = ("open", "pending", "snoozed", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
DIRECTIONS = ("in", "out", "note")
CHANNELS = ("api", "email", "chat", "phone", "form", "social", "whatsapp")
# Delivery state of an outbound message.
DELIVERY_STATES = ("queued", "sending", "sent", "failed")


class Conversation(ShopScopedByComposite, Base):
    __tablename__ = "conversation"
    __table_args__ = (
        # The inbox: a shop's conversations in one status, newest activity first ...
        Index("ix_conversation_inbox", "shop_id", "status", "last_activity_at", "id"),
        # ... or longest waiting first (NULLS LAST is a B-tree's natural ascending order) ...
        Index("ix_conversation_waiting", "shop_id", "status", "waiting_since", "id"),
        # ... or the soonest SLA due moment first (breached ones have the earliest), without due last.
        Index("ix_conversation_sla", "shop_id", "status", "sla_due_at", "id"),
        # ... or every status at once.
        Index("ix_conversation_recent", "shop_id", "last_activity_at", "id"),
        # Threading: the customer's conversation on a channel.
        Index("ix_conversation_thread", "shop_id", "customer_id", "channel", "status"),
        # The worker's wake-up of snoozed conversations, across shops.
        Index("ix_conversation_snoozed", "snoozed_until", postgresql_where=sql("status = 'snoozed'"),
              sqlite_where=sql("status = 'snoozed'")),
    )

    id: Mapped[int] = pk()
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customer.id"))
    channel: Mapped[str] = mapped_column(String(16))
    # The shop's own address on that channel (for e-mail: the support address the customer
    # wrote to), so that answers go out from where the customer expects them.
    channel_address: Mapped[str | None] = mapped_column(String(320), default=None)
    subject: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    assignee_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("agent.id", ondelete="SET NULL"), default=None, index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("team.id", ondelete="SET NULL"), default=None
    )
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When the customer started waiting for us (first unanswered inbound); None = not waiting.
    waiting_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_activity_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Denormalised so a list page needs no per-row query.
    preview: Mapped[str] = mapped_column(String(200), default="")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    tags: Mapped[str] = mapped_column(String(1000), default="")  # mirror of conversation_tag, " "-joined
    created_at: Mapped[dt.datetime] = created_at()
    # SLA timers (balie.sla.service keeps them): the running due moment of each promise, None
    # while that timer does not run (no target, not started, paused or met).
    first_response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    next_response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    resolution_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The earliest running due and "due soon" moments: the state is a comparison with now, and
    # the inbox sorts on sla_due_at.
    sla_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    sla_warn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Set while every timer is stopped (pending, snoozed); the last promise kept.
    sla_paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    sla_met_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Business time was asked, but the channel has no opening hours: counted around the clock.
    sla_calendar_fallback: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Each timer in full, by kind (balie.sla.service.dump): its target, moments, and the minutes
    # left while paused. The columns above are derived from it.
    sla_timers: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split() if self.tags else []


class ConversationTag(ShopScoped, Base):
    __tablename__ = "conversation_tag"
    __table_args__ = (
        UniqueConstraint("conversation_id", "tag"),
        Index("ix_conversation_tag_lookup", "shop_id", "tag", "conversation_id"),
    )

    id: Mapped[int] = pk()
    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversation.id", ondelete="CASCADE")
    )
    tag: Mapped[str] = mapped_column(String(64))


class Message(ShopScopedByComposite, Base):
    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("shop_id", "channel", "external_id"),
        Index("ix_message_conversation", "conversation_id", "id"),
    )

    id: Mapped[int] = pk()
    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversation.id", ondelete="CASCADE")
    )
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    author_agent_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("agent.id", ondelete="SET NULL"), default=None
    )
    author_customer_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("customer.id"), default=None, index=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    # Sanitised with nh3 before it is stored; rendered as-is only after sanitising.
    html: Mapped[str | None] = mapped_column(Text, default=None)
    # The channel's id for the message (for e-mail its Message-ID, in and out): dedupe and threading.
    external_id: Mapped[str | None] = mapped_column(String(500), default=None)
    # E-mail keeps the whole body here; `text` is what the customer wrote this time.
    full_text: Mapped[str | None] = mapped_column(Text, default=None)
    # The raw source as received (an .eml under the data directory), when the channel has one.
    raw_path: Mapped[str | None] = mapped_column(String(500), default=None)
    # Space-separated markers: auto_reply, bounce, held, unparsable.
    flags: Mapped[str] = mapped_column(String(200), default="", server_default="")
    delivery_state: Mapped[str | None] = mapped_column(String(16), default=None)
    delivery_error: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[dt.datetime] = created_at()


class Attachment(ShopScoped, Base):
    """A file on disk under the data directory; the row says where and what it is."""

    __tablename__ = "attachment"

    id: Mapped[int] = pk()
    message_id: Mapped[int] = mapped_column(
        Id, ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))  # relative to the data directory
    created_at: Mapped[dt.datetime] = created_at()
