"""An SLA moment comes: "due soon" or breached. Runs as a due-job handler; a job whose moment
the conversation no longer has (answered, paused, re-timed since) does nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from balie.audit import service as audit_service
from balie.automation import engine as automation
from balie.conversations.models import Conversation
from balie.db import scoped
from balie.events import Event, publish_on_commit
from balie.scheduling.models import DueJob
from balie.sla import service
from balie.sla.service import BREACHED, DUE_SOON

__all__ = ["BREACHED", "DUE_SOON", "fire_breached", "fire_due_soon"]

TRIGGERS = {DUE_SOON: "sla_near_breach", BREACHED: "sla_breached"}


def fire_due_soon(session: Session, job: DueJob) -> None:
    _fire(session, job)


def fire_breached(session: Session, job: DueJob) -> None:
    _fire(session, job)


def _fire(session: Session, job: DueJob) -> None:
    conversation = session.scalars(scoped(Conversation, job.shop_id).where(Conversation.id == job.ref_id)).first()
    if conversation is None:
        return
    running = [timer for timer in service.timers(conversation).values()
               if timer.met_at is None and timer.due_at is not None]
    kinds = sorted(timer.kind for timer in running
                   if (timer.warn_at if job.kind == DUE_SOON else timer.due_at) == job.due_at)
    if not kinds:
        return  # stale: answered, paused or re-timed since it was scheduled
    audit_service.record(session, shop_id=job.shop_id, actor_agent_id=None, action=job.kind,
                         object_type="conversation", object_id=conversation.id,
                         data={"kinds": kinds, "due_at": job.due_at.isoformat()})
    publish_on_commit(session, Event("conversation.updated", job.shop_id,
                                     {"conversation_id": conversation.id, "changed": ["sla"]}))
    automation.run(session, TRIGGERS[job.kind], shop_id=job.shop_id, conversation_id=conversation.id)
