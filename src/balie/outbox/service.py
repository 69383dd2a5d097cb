"""Putting an outbound message in the outbox (inside the caller's transaction)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from balie import clock
from balie.conversations.models import Message
from balie.events import Event, publish_on_commit
from balie.outbox.models import OutboxEntry


def enqueue(session: Session, message: Message) -> OutboxEntry:
    entry = OutboxEntry(
        shop_id=message.shop_id,
        message_id=message.id,
        channel=message.channel,
        status="pending",
        next_attempt_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    # Wakes the dispatcher as soon as the reply is committed, instead of at its next poll.
    publish_on_commit(session, Event("outbox.queued", message.shop_id, {"message_id": message.id}))
    return entry
