"""The customer's confirmation on a durable medium: an e-mail with the content, date and time
of the withdrawal (Directive 2011/83/EU art. 11a(3)), sent through the outbox like any reply.
It opens an e-mail conversation with the customer, where agents see the case and the
refund notes (jobs.py) land."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from balie import clock, text
from balie.channels.email.models import Mailbox
from balie.conversations.models import Conversation, Message
from balie.customers.models import Customer
from balie.db import scoped
from balie.events import Event, publish_on_commit
from balie.outbox import service as outbox_service
from balie.returns import calendar, service, texts
from balie.returns.models import ReturnCase

FLAG = "withdrawal_confirmation"


def send(session: Session, case: ReturnCase, customer_id: int) -> Message:
    """Queues the mail; the dispatcher delivers it after the caller commits."""
    lines = service.lines_of(session, case)
    zone, _ = calendar.of_shop(session, case.shop_id, case.withdrawn_at)
    customer = session.scalars(scoped(Customer, case.shop_id).where(Customer.id == customer_id)).one()
    subject, body = texts.confirmation(case, lines, service.refund_due(case, lines), zone, customer.name or "")
    mailbox = session.scalars(scoped(Mailbox, case.shop_id).order_by(Mailbox.id).limit(1)).first()
    now = clock.now()
    conversation = Conversation(
        shop_id=case.shop_id, customer_id=customer_id, channel="email",
        channel_address=mailbox.address if mailbox else None, subject=subject[:500], status="open",
        last_activity_at=now, created_at=now, preview=body[:200],
    )
    session.add(conversation)
    session.flush()
    message = Message(
        shop_id=case.shop_id, conversation_id=conversation.id, direction="out", channel="email",
        author_agent_id=None, text=body, html=text.text_to_html(body), delivery_state="queued", flags=FLAG,
        created_at=now, external_id=f"<{secrets.token_hex(16)}@email.balie>",
    )
    session.add(message)
    session.flush()
    note_text = texts.opened_note(case, service.refund_due(case, lines))
    note = Message(shop_id=case.shop_id, conversation_id=conversation.id, direction="note", channel="email",
                   author_agent_id=None, text=note_text, html=text.text_to_html(note_text), created_at=now)
    session.add(note)
    conversation.message_count = 2
    case.conversation_id = conversation.id
    outbox_service.enqueue(session, message)
    session.flush()
    publish_on_commit(session, Event("message.created", case.shop_id,
                                     {"conversation_id": conversation.id, "message_id": message.id,
                                      "direction": "out"}))
    return message
