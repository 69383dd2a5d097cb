"""Helpers for the invitation tests: a shop that can answer, visitors, rules and page events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.channels.chat import service as chat_service
from balie.channels.chat import settings as widget_settings
from balie.channels.chat.models import ChatVisitor
from balie.hours import service as hours_service
from balie.proactive import rules
from balie.proactive import service as proactive_service
from balie.proactive.models import Invitation
from factories import Tenant


def reachable(factory: sessionmaker[Session], tenant: Tenant, *, hours: str = "00:00-24:00",
              online: bool = True) -> None:
    """Chat and call-backs open `hours` every day, and the tenant's agent online (or not)."""
    with factory() as session, session.begin():
        widget_settings.get_or_create(session, tenant.shop_id)
        for channel in ("chat", "callback"):
            hours_service.replace(session, tenant.shop_id, channel,
                                  [i for day in range(7) for i in hours_service.parse_day(day, hours)])
        if online:
            agent_service.touch_presence(session, tenant.agent_id)


def add_rule(factory: sessionmaker[Session], tenant: Tenant, trigger: str, threshold: str, *,
             action: str = "chat", name: str = "", enabled: bool = True, message_nl: str = "",
             message_en: str = "") -> int:
    with factory() as session, session.begin():
        return rules.create(session, tenant.shop_id, rules.RuleInput(
            name=name or trigger, trigger=trigger, threshold=threshold, action=action, enabled=enabled,
            message_nl=message_nl, message_en=message_en)).id


def new_visitor(factory: sessionmaker[Session], tenant: Tenant, language: str = "nl") -> int:
    with factory() as session, session.begin():
        return chat_service.start_visitor(session, tenant.shop_id, language)[1].id


def new_visit(factory: sessionmaker[Session], visitor_id: int) -> None:
    with factory() as session, session.begin():
        chat_service.resume(session, session.get_one(ChatVisitor, visitor_id), new_visit=True, language="nl")


def page(factory: sessionmaker[Session], visitor_id: int, kind: str | None = None,
         **fields: Any) -> proactive_service.Offer | None:
    """Reports a page (or, without kind, the widget's idle check) and decides, as the socket does."""
    with factory() as session, session.begin():
        visitor = session.get_one(ChatVisitor, visitor_id)
        if kind is not None:
            proactive_service.record(session, visitor, proactive_service.report(kind, **fields))
        return proactive_service.decide(session, visitor)


def invitations(factory: sessionmaker[Session], visitor_id: int) -> list[Invitation]:
    with factory() as session:
        return list(session.scalars(select(Invitation).where(Invitation.visitor_id == visitor_id)
                                    .order_by(Invitation.id)))
