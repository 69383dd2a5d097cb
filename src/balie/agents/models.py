"""Agents, their shops and teams, API tokens and browser sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from balie.db import Base, Id, ShopScoped, UTCDateTime, created_at, pk

ROLES = ("admin", "agent")


class Agent(Base):
    __tablename__ = "agent"

    id: Mapped[int] = pk()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    # Presence: refreshed (at most once a minute) while the agent has Balie open; who counts
    # as online for the widget's reachability and expected reply times.
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[dt.datetime] = created_at()


class Membership(ShopScoped, Base):
    """An agent works in a shop with a role; one agent can work in several shops."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("shop_id", "agent_id"),)

    id: Mapped[int] = pk()
    agent_id: Mapped[int] = mapped_column(Id, ForeignKey("agent.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="agent")
    created_at: Mapped[dt.datetime] = created_at()


class Team(ShopScoped, Base):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("shop_id", "name"),)

    id: Mapped[int] = pk()
    name: Mapped[str] = mapped_column(String(100))


class TeamMember(ShopScoped, Base):
    __tablename__ = "team_member"
    __table_args__ = (UniqueConstraint("team_id", "agent_id"),)

    id: Mapped[int] = pk()
    team_id: Mapped[int] = mapped_column(Id, ForeignKey("team.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(Id, ForeignKey("agent.id", ondelete="CASCADE"), index=True)


class ApiToken(ShopScoped, Base):
    """A personal API token: only its SHA-256 is stored (tokens are 256-bit random)."""

    __tablename__ = "api_token"

    id: Mapped[int] = pk()
    agent_id: Mapped[int] = mapped_column(Id, ForeignKey("agent.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = created_at()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class WebSession(Base):
    """A logged-in browser; the cookie holds a random token, we keep its SHA-256."""

    __tablename__ = "web_session"

    id: Mapped[int] = pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(Id, ForeignKey("agent.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_at()
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
