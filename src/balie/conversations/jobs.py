"""Timers on conversations: a snoozed conversation comes back when its time is up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.conversations.models import Conversation
from balie.events import Event, publish_on_commit
from balie.sla import service as sla_service


def wake_snoozed(factory: sessionmaker[Session], *, limit: int = 200) -> int:
    with factory() as session, session.begin():
        query = (
            select(Conversation)
            .where(Conversation.status == "snoozed", Conversation.snoozed_until <= clock.now())
            .order_by(Conversation.snoozed_until)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        woken = list(session.scalars(query))
        now = clock.now()
        for conversation in woken:
            conversation.status = "open"
            conversation.snoozed_until = None
            sla_service.on_status(session, conversation, "snoozed", now)  # the SLA clock runs again
            publish_on_commit(
                session,
                Event("conversation.updated", conversation.shop_id,
                      {"conversation_id": conversation.id, "changed": ["status"]}),
            )
    return len(woken)
