"""The refund promise's moments come (kinds `return.refund_due_soon`, `return.refund_overdue`):
agents are told, in the case's conversation when it has one, and by an event and the audit
log. A case already refunded, or gone, makes the job do nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from balie import clock, text
from balie.audit import service as audit_service
from balie.conversations.models import Conversation, Message
from balie.db import scoped
from balie.events import Event, publish_on_commit
from balie.returns import service, texts
from balie.returns.models import ReturnCase
from balie.returns.promise import DUE_SOON, OVERDUE
from balie.scheduling.models import DueJob

__all__ = ["DUE_SOON", "OVERDUE", "fire"]


def fire(session: Session, job: DueJob) -> None:
    case = session.scalars(scoped(ReturnCase, job.shop_id).where(ReturnCase.id == job.ref_id)).first()
    if case is None or case.refunded_at is not None:
        return
    state = "due_soon" if job.kind == DUE_SOON else "breached"
    amount = service.refund_due(case, service.lines_of(session, case))
    audit_service.record(session, shop_id=job.shop_id, actor_agent_id=None, action=job.kind, object_type="return",
                         object_id=case.id, data={"due_on": case.refund_due_on.isoformat(), "amount": str(amount)})
    if case.conversation_id is not None:
        _note(session, case, texts.agent_note(state, case, amount, service.may_withhold(case)))
    publish_on_commit(session, Event("return.updated", job.shop_id,
                                     {"return_id": case.id, "action": job.kind, "refund_state": state}))


def _note(session: Session, case: ReturnCase, body: str) -> None:
    conversation = session.scalars(scoped(Conversation, case.shop_id)
                                   .where(Conversation.id == case.conversation_id)).first()
    if conversation is None:
        return
    now = clock.now()
    message = Message(shop_id=case.shop_id, conversation_id=conversation.id, direction="note",
                      channel=conversation.channel, author_agent_id=None, text=body, html=text.text_to_html(body),
                      created_at=now)
    session.add(message)
    conversation.message_count = Conversation.message_count + 1
    session.flush()
    publish_on_commit(session, Event("message.created", case.shop_id,
                                     {"conversation_id": conversation.id, "message_id": message.id,
                                      "direction": "note"}))
