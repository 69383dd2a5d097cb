"""An agent starts a conversation: the first message goes out to the customer instead of
coming in. E-mail only for now: it is the one channel where we may write first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie import clock
from balie.agents.service import Actor
from balie.audit import service as audit_service
from balie.automation import queue as automation
from balie.channels.email import outbound
from balie.channels.email.models import Mailbox
from balie.channels.email.service import normalise_address
from balie.conversations import service as conversation_service
from balie.conversations.ingest import MAX_SUBJECT
from balie.conversations.models import Conversation, Message
from balie.customers import service as customer_service
from balie.db import scoped
from balie.errors import BalieError, Conflict, Invalid
from balie.inputs import check_line, check_text

STARTABLE = ("email",)
# The same subject and text to the same customer this soon again is a second click, not a
# second message: the customer would get the mail twice.
DUPLICATE_WINDOW = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Start:
    channel: str
    customer_email: str
    subject: str
    text: str
    customer_name: str = ""
    from_address: str | None = None  # one of the shop's support addresses; else its first


@dataclass(frozen=True)
class Started:
    conversation_id: int
    message_id: int
    customer_id: int


def start(session: Session, actor: Actor, request: Start) -> Started:
    """Checks everything before it writes anything; the caller commits."""
    if request.channel not in STARTABLE:
        raise Invalid(f"a conversation can be started on {', '.join(STARTABLE)} only, not {request.channel!r}",
                      code="unsupported_channel")
    ref = customer_service.IdentityRef("email", _recipient(request.customer_email))
    name = check_line(request.customer_name, "customer name").strip()
    subject = _subject(request.subject)
    text = _text(request.text)
    mailbox = _mailbox(session, actor.shop_id, request.from_address)

    # Locks the customer on PostgreSQL, so a double click waits here and then sees the first.
    customer = customer_service.resolve(session, shop_id=actor.shop_id, refs=[ref], name=name, lock=True)
    now = clock.now()
    _refuse_duplicate(session, actor.shop_id, customer.id, subject, text, now)
    conversation = Conversation(
        shop_id=actor.shop_id, customer_id=customer.id, channel="email", channel_address=mailbox.address,
        subject=subject, status="pending", last_activity_at=now, created_at=now,
    )
    session.add(conversation)
    session.flush()
    audit_service.record(
        session, shop_id=actor.shop_id, actor_agent_id=actor.agent_id, action="conversation.started",
        object_type="conversation", object_id=conversation.id,
        data={"channel": "email", "to": ref.value, "from": mailbox.address},
    )
    message = conversation_service.reply(session, actor, conversation.id, text, status="pending")
    # The rules for conversation_created run after this commits, in a worker.
    automation.conversation_started(session, shop_id=actor.shop_id, conversation_id=conversation.id)
    return Started(conversation_id=conversation.id, message_id=message.id, customer_id=customer.id)


def _mailbox(session: Session, shop_id: int, from_address: str | None) -> Mailbox:
    query = scoped(Mailbox, shop_id)
    if from_address is None:
        mailbox = session.scalars(query.order_by(Mailbox.id).limit(1)).first()
        if mailbox is None:
            raise Invalid("this shop has no support address to send from: add a mailbox first", code="no_mailbox")
        return mailbox
    address = normalise_address(check_line(from_address, "from"))
    mailbox = session.scalars(query.where(Mailbox.address == address)).first()
    if mailbox is None:  # another shop's address answers the same: it is not this shop's
        raise Invalid(f"{address} is not a support address of this shop", code="unknown_mailbox")
    return mailbox


def _earlier(session: Session, shop_id: int, customer_id: int, subject: str, text: str,
             now: dt.datetime) -> int | None:
    """The conversation that already sent this subject and text to this customer lately."""
    return session.scalars(
        select(Conversation.id)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            Conversation.shop_id == shop_id, Conversation.customer_id == customer_id,
            Conversation.channel == "email", Conversation.subject == subject,
            Conversation.created_at >= now - DUPLICATE_WINDOW,
            Message.direction == "out", Message.text == text,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    ).first()


def _refuse_duplicate(session: Session, shop_id: int, customer_id: int, subject: str, text: str,
                      now: dt.datetime) -> None:
    earlier = _earlier(session, shop_id, customer_id, subject, text, now)
    if earlier is not None:
        raise Conflict(f"this message was already sent to this customer in conversation #{earlier} "
                       f"(within the last {DUPLICATE_WINDOW.seconds // 60} minutes)",
                       code="duplicate_conversation")


# --- For a form that marks each field (the agent UI's /inbox/new) -----------------------
# start() stops at the first problem; a form shows every problem at once, beside its field.
# problems() runs the same per-field checks start() is made of, collecting them all.


def problems(session: Session, shop_id: int, request: Start) -> list[tuple[str, BalieError]]:
    """What start() would refuse, as (name of the Start field, error) in the form's order:
    customer_email, customer_name, subject, text, from_address. Writes nothing. A repeated
    message is not looked for here (that needs the customer): start() refuses it."""
    found: list[tuple[str, BalieError]] = []

    def check(field: str, run: Callable[[], object]) -> None:
        try:
            run()
        except BalieError as error:
            found.append((field, error))

    check("customer_email", lambda: _recipient(request.customer_email))
    check("customer_name", lambda: check_line(request.customer_name, "customer name"))
    check("subject", lambda: _subject(request.subject))
    check("text", lambda: _text(request.text))
    check("from_address", lambda: _mailbox(session, shop_id, request.from_address))
    return found


def repeated_in(session: Session, shop_id: int, request: Start) -> int | None:
    """The conversation this request repeats (what start() refused as duplicate_conversation),
    so the agent can be sent to it; None when there is none."""
    try:
        ref = customer_service.normalise("email", request.customer_email)
    except Invalid:
        return None
    customer = customer_service.lookup(session, shop_id=shop_id, refs=[ref])
    if customer is None:
        return None
    return _earlier(session, shop_id, customer.id, request.subject.strip(), request.text.strip(), clock.now())


def _recipient(value: str) -> str:
    try:
        ref = customer_service.normalise("email", value)
    except Invalid as error:
        raise Invalid(error.detail, code="invalid_address") from None
    if outbound.sendable_address(ref.value) is None:
        raise Invalid(f"not an e-mail address we can send to: {ref.value!r}", code="invalid_address")
    return ref.value


def _subject(value: str) -> str:
    subject = check_line(value, "subject").strip()
    if not subject:
        raise Invalid("the subject is empty", code="empty_subject")
    if len(subject) > MAX_SUBJECT:
        raise Invalid(f"the subject is longer than {MAX_SUBJECT} characters", code="invalid_subject")
    return subject


def _text(value: str) -> str:
    check_text(value)
    text = value.strip()
    if not text:
        raise Invalid("the message is empty", code="empty_message")
    return text
