"""After a customer's message is committed: what Balie does about it, once, in a worker.

Ingest stores the message and, in the same transaction, one due job of kind
`message.received` about it (a plain insert: ingest's hot path stays one statement more).
A worker runs the job after the commit, exactly once (balie.scheduling), in this order:

1. a blocked or muted customer's message stops here: stored and visible, nothing more;
2. its language is noted and a compliment is marked (the inbox filters on them);
3. the SLA timers start or restart;
4. the automatic acknowledgement goes out, when the channel has one and it is due;
5. the automation rules for `message_received` run.

Each step lives with its subject; this module only keeps the order. An automatic message
(an out-of-office, a bounce) goes through 1 and 2 only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from balie.automation import engine as automation
from balie.compliments import service as compliments
from balie.conversations.models import Conversation, Message
from balie.customers import blocking
from balie.scheduling.models import DueJob
from balie.sla import acknowledging
from balie.sla import service as sla

KIND = "message.received"
AUTOMATIC = frozenset({"auto_reply", "bounce"})


def schedule(session: Session, *, shop_id: int, message_id: int, now: dt.datetime) -> None:
    """In the caller's transaction. The message is new, so nothing can hold this key yet."""
    session.execute(
        insert(DueJob).values(shop_id=shop_id, kind=KIND, ref_id=message_id, due_at=now, next_attempt_at=now,
                              payload={}, state="pending", attempts=0, created_at=now)
    )


def fire(session: Session, job: DueJob) -> None:
    row = session.execute(
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.shop_id == job.shop_id, Message.id == job.ref_id)
    ).first()
    if row is None:  # deleted since, with its customer
        return
    message, conversation = row
    if message.direction != "in" or blocking.muted(session, conversation.shop_id, conversation.customer_id):
        return
    compliments.mark(session, conversation, message)
    if AUTOMATIC.intersection(message.flags.split()):
        return
    sla.on_customer_message(session, conversation, message)
    acknowledging.maybe_acknowledge(session, conversation, message)
    first = session.scalar(select(func.min(Message.id)).where(Message.shop_id == conversation.shop_id,
                                                             Message.conversation_id == conversation.id))
    if first == message.id:  # the message that started the conversation
        automation.run(session, "conversation_created", shop_id=conversation.shop_id,
                       conversation_id=conversation.id, message_id=message.id,
                       event_key=f"conversation_created:{conversation.id}")
    automation.run(session, "message_received", shop_id=conversation.shop_id, conversation_id=conversation.id,
                   message_id=message.id)
