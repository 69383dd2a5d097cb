"""Putting an outbound message in the outbox (inside the caller's transaction), and the
automatic messages that go out that way."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy.orm import Session

from balie import clock, text
from balie.conversations.models import Conversation, Message
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


def send_automatic(session: Session, conversation: Conversation, body: str, *, flag: str, now: dt.datetime,
                   touch: bool) -> Message:
    """A message by nobody (an acknowledgement, a delivery promise notice), stored and queued
    like an agent's reply but answering nothing: the customer who asked keeps waiting for a
    person, and the SLA timers run on. With `touch` it becomes the conversation's latest
    activity and preview (a notice is news; an acknowledgement only confirms receipt)."""
    message = Message(
        shop_id=conversation.shop_id, conversation_id=conversation.id, direction="out",
        channel=conversation.channel, author_agent_id=None, text=body, html=text.text_to_html(body),
        delivery_state="queued", flags=flag, created_at=now,
        # As for a reply: our id, known before it goes out, so an answer to it threads back here.
        external_id=f"<{secrets.token_hex(16)}@{conversation.channel}.balie>",
    )
    session.add(message)
    session.flush()
    conversation.message_count = Conversation.message_count + 1
    if touch:
        conversation.last_activity_at = now
        conversation.preview = text.preview(body)
    enqueue(session, message)
    session.flush()
    publish_on_commit(session, Event("message.created", conversation.shop_id, {
        "conversation_id": conversation.id, "message_id": message.id, "direction": "out"}))
    return message
