"""A follow-up comes due: the conversation reopens, goes back to the agent who asked (while
they work in the shop), and the note appears in it. Runs as a due-job handler, inside the
transaction that marks the job done."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from balie import clock, text
from balie.agents import service as agent_service
from balie.audit import service as audit_service
from balie.conversations.models import Conversation, Message
from balie.db import scoped
from balie.errors import NotFound
from balie.events import Event, publish_on_commit
from balie.follow_ups import texts
from balie.follow_ups.service import KIND, from_job
from balie.scheduling.models import DueJob
from balie.shops import service as shop_service
from balie.sla import service as sla_service

__all__ = ["KIND", "fire"]

log = logging.getLogger(__name__)


def _still_in_shop(session: Session, shop_id: int, agent_id: int | None) -> bool:
    if agent_id is None:
        return False
    try:
        agent_service.member(session, shop_id=shop_id, agent_id=agent_id)
    except NotFound:
        return False
    return True


def fire(session: Session, job: DueJob) -> None:
    follow_up = from_job(job)
    conversation = session.scalars(
        scoped(Conversation, job.shop_id).where(Conversation.id == follow_up.conversation_id)
    ).first()
    if conversation is None:  # gone since (its customer was deleted): nothing left to remind of
        log.info("follow-up %s: conversation %s no longer exists", job.id, follow_up.conversation_id)
        return
    shop = shop_service.get(session, job.shop_id)
    now = clock.now()
    was = conversation.status
    before = {"status": conversation.status, "assignee_id": conversation.assignee_id,
              "snoozed_until": conversation.snoozed_until.isoformat() if conversation.snoozed_until else None}
    conversation.status, conversation.snoozed_until, conversation.resolved_at = "open", None, None
    sla_service.on_status(session, conversation, was, now)  # paused SLA timers run again
    conversation.last_activity_at = now  # back at the top of the inbox
    agent_name = follow_up.agent_name or texts.text(shop.language, "someone")
    lines = [texts.text(shop.language, "due", agent=agent_name, note=follow_up.note)]
    if _still_in_shop(session, job.shop_id, follow_up.agent_id):
        conversation.assignee_id = follow_up.agent_id
    else:
        conversation.assignee_id = None
        lines.append(texts.text(shop.language, "unassigned", agent=agent_name))
    body = "\n\n".join(lines)
    note = Message(shop_id=job.shop_id, conversation_id=conversation.id, direction="note",
                   channel=conversation.channel, text=body, html=text.text_to_html(body), created_at=now)
    session.add(note)
    conversation.message_count = Conversation.message_count + 1  # in SQL: concurrent writers all count
    session.flush()
    after = {"status": "open", "assignee_id": conversation.assignee_id, "snoozed_until": None}
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changed:
        audit_service.record(session, shop_id=job.shop_id, actor_agent_id=None, action="conversation.updated",
                             object_type="conversation", object_id=conversation.id,
                             data={**changed, "follow_up_id": job.id})
        publish_on_commit(session, Event("conversation.updated", job.shop_id,
                                         {"conversation_id": conversation.id, "changed": sorted(changed)}))
    publish_on_commit(session, Event("message.created", job.shop_id,
                                     {"conversation_id": conversation.id, "message_id": note.id,
                                      "direction": "note"}))
