"""The one way in: every channel turns what it receives into an InboundMessage and calls ingest().

dedupe on (channel, external id) → resolve the customer → thread into a conversation →
store, with a due job for what follows (received.py) → (the caller commits) → events go out
after the commit, and a worker runs the job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from balie import clock, text
from balie.conversations import ingest_pg, received
from balie.conversations.models import CHANNELS, Attachment, Conversation, Message
from balie.customers import service as customer_service
from balie.customers.service import IdentityRef
from balie.errors import Invalid
from balie.events import Event, publish_on_commit
from balie.inputs import check_line, check_text, valid_id
from balie.shops.models import Shop
from balie.storage import FileStore

MAX_SUBJECT = 500
DEFAULT_REOPEN_DAYS = 7
ACTIVE = ("open", "pending", "snoozed")


@dataclass(frozen=True)
class InboundFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class InboundMessage:
    shop_id: int
    channel: str
    identities: list[IdentityRef]
    text: str = ""
    html: str | None = None
    subject: str = ""
    customer_name: str = ""
    external_id: str | None = None
    files: list[InboundFile] = field(default_factory=list)
    # E-mail: the whole body (text is only the new part), the raw source on disk, markers.
    channel_address: str | None = None  # the shop's address it came in on (a support address)
    full_text: str | None = None
    raw_path: str | None = None
    flags: list[str] = field(default_factory=list)
    # Channels that say which message they answer (e-mail's In-Reply-To / References, newest
    # first) thread by that, then by a conversation number the customer kept ([#123] in a
    # subject), else start a new conversation, instead of joining the customer's open one.
    explicit_threading: bool = False
    references: list[str] = field(default_factory=list)
    conversation_ref: int | None = None
    # An automatic message (out-of-office, bounce): stored and shown, but it reopens nothing
    # and nobody is waiting for an answer to it.
    quiet: bool = False


@dataclass(frozen=True)
class IngestResult:
    conversation_id: int
    message_id: int
    customer_id: int
    created: bool


def find_duplicate(session: Session, inbound: InboundMessage) -> IngestResult | None:
    if inbound.external_id is None:
        return None
    row = session.execute(
        select(Message.id, Message.conversation_id, Conversation.customer_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.shop_id == inbound.shop_id,
            Message.channel == inbound.channel,
            Message.external_id == inbound.external_id,
        )
    ).first()
    if row is None:
        return None
    return IngestResult(
        conversation_id=row.conversation_id, message_id=row.id, customer_id=row.customer_id,
        created=False,
    )


def ingest(
    session: Session,
    inbound: InboundMessage,
    *,
    store: FileStore | None = None,
    reopen_window: dt.timedelta | None = None,
) -> IngestResult:
    """`reopen_window` is the install's default; a shop's own setting wins."""
    if inbound.channel not in CHANNELS:
        raise Invalid(f"unknown channel {inbound.channel!r}")
    check_text(inbound.text)
    if inbound.html is not None:
        check_text(inbound.html, "html")
    check_line(inbound.subject, "subject")
    check_line(inbound.customer_name, "customer name")
    if inbound.external_id is not None:
        check_line(inbound.external_id, "external_id")
    fast = _fast_path_applies(session, inbound)
    if not fast:
        duplicate = find_duplicate(session, inbound)
        if duplicate is not None:
            return duplicate

    body_html = text.sanitise_html(inbound.html) if inbound.html else None
    body_text = inbound.text.strip() or (text.html_to_text(inbound.html) if inbound.html else "")
    if not body_text and not inbound.files:
        raise Invalid("a message needs text, html or an attachment", code="empty_message")
    if inbound.files and store is None:
        raise Invalid("this channel cannot take attachments")
    if fast:
        now = clock.now()
        outcome = ingest_pg.try_store(session, inbound, text=body_text, html=body_html,
                                      preview=_preview(body_text, inbound), subject=_subject(inbound), now=now,
                                      job_kind=received.KIND)
        if outcome is not None and not outcome.created:
            return IngestResult(conversation_id=outcome.conversation_id, message_id=outcome.message_id,
                                customer_id=outcome.customer_id, created=False)
        if outcome is not None:
            _attach(session, inbound, store, outcome.message_id)
            return _stored(session, inbound, outcome.conversation_id, outcome.message_id,
                           outcome.customer_id, reopened=False)

    # Locked (PostgreSQL) so that one customer's messages are threaded one at a time: two
    # arriving together cannot both open a new conversation. SQLite has one writer at a
    # time, and the entry points serialise ingest there (Context.ingest_lock).
    customer = customer_service.resolve(
        session, shop_id=inbound.shop_id, refs=inbound.identities, name=inbound.customer_name, lock=True
    )
    now = clock.now()
    conversation, reopened = _thread(session, inbound, customer.id, now, reopen_window)

    # The hot path writes with two plain statements instead of the ORM's unit of work,
    # which cost more CPU than the database did (see docs/benchmarks.md).
    message_id: int = session.execute(
        insert(Message).values(
            shop_id=inbound.shop_id, conversation_id=conversation.id, direction="in",
            channel=inbound.channel, author_customer_id=customer.id, text=body_text, html=body_html,
            external_id=inbound.external_id, created_at=now, full_text=inbound.full_text,
            raw_path=inbound.raw_path, flags=" ".join(inbound.flags),
        ).returning(Message.id)
    ).scalar_one()
    _attach(session, inbound, store, message_id)
    changes: dict[str, object] = {
        "last_activity_at": now,
        "preview": _preview(body_text, inbound),
        # Incremented in SQL: two messages for one conversation at once must both count.
        "message_count": Conversation.message_count + 1,
    }
    if conversation.waiting_since is None and not inbound.quiet:
        changes["waiting_since"] = now
    if conversation.status in ("pending", "snoozed", "resolved") and not inbound.quiet:
        changes.update(status="open", snoozed_until=None, resolved_at=None)
    session.execute(
        update(Conversation).where(Conversation.id == conversation.id).values(**changes),
        execution_options={"synchronize_session": False},
    )
    conversation_id = conversation.id
    session.expire(conversation)  # the row changed underneath the ORM object
    session.flush()
    received.schedule(session, shop_id=inbound.shop_id, message_id=message_id, now=now)
    return _stored(session, inbound, conversation_id, message_id, customer.id, reopened=reopened)


def _attach(session: Session, inbound: InboundMessage, store: FileStore | None, message_id: int) -> None:
    for inbound_file in inbound.files:
        assert store is not None  # checked before anything was written
        stored = store.save(inbound_file.data)
        session.add(
            Attachment(
                shop_id=inbound.shop_id, message_id=message_id,
                filename=inbound_file.filename[:255] or "attachment",
                content_type=inbound_file.content_type[:255], size=stored.size,
                sha256=stored.sha256, path=stored.path,
            )
        )


def _fast_path_applies(session: Session, inbound: InboundMessage) -> bool:
    """The one-statement path handles the ordinary message on PostgreSQL (see ingest_pg)."""
    return (inbound.conversation_ref is None and bool(inbound.identities)
            and session.get_bind().dialect.name == "postgresql")


def _stored(session: Session, inbound: InboundMessage, conversation_id: int, message_id: int,
            customer_id: int, *, reopened: bool) -> IngestResult:
    data = {
        "conversation_id": conversation_id,
        "message_id": message_id,
        "customer_id": customer_id,
        "channel": inbound.channel,
        "reopened": reopened,
    }
    publish_on_commit(session, Event("message.created", inbound.shop_id, data))
    return IngestResult(
        conversation_id=conversation_id, message_id=message_id, customer_id=customer_id, created=True,
    )


def _reopen_window(session: Session, shop_id: int, default: dt.timedelta | None) -> dt.timedelta:
    """The shop's own setting wins over the install's default. Asked only when a resolved
    conversation might reopen, which keeps the query off ingest's common path."""
    days = session.scalar(select(Shop.reopen_window_days).where(Shop.id == shop_id))
    if days is not None:
        return dt.timedelta(days=days)
    return default if default is not None else dt.timedelta(days=DEFAULT_REOPEN_DAYS)


def _thread(
    session: Session,
    inbound: InboundMessage,
    customer_id: int,
    now: dt.datetime,
    default_reopen_window: dt.timedelta | None,
) -> tuple[Conversation, bool]:
    """The customer's active conversation on this channel, a recently resolved one, or a new one."""
    if inbound.explicit_threading:
        answered = _answered_conversation(session, inbound, customer_id)
        if answered is not None:
            return answered, answered.status == "resolved" and not inbound.quiet
        return _new_conversation(session, inbound, customer_id, now), False
    candidates = session.scalars(
        select(Conversation)
        .where(
            Conversation.shop_id == inbound.shop_id,
            Conversation.customer_id == customer_id,
            Conversation.channel == inbound.channel,
            Conversation.status.in_((*ACTIVE, "resolved")),
        )
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(5)
    ).all()
    for conversation in candidates:
        if conversation.status in ACTIVE:
            return conversation, False
    if candidates:
        reopen_window = _reopen_window(session, inbound.shop_id, default_reopen_window)
    for conversation in candidates:
        resolved_at = conversation.resolved_at or conversation.last_activity_at
        if now - resolved_at <= reopen_window:
            return conversation, True
    return _new_conversation(session, inbound, customer_id, now), False


def _answered_conversation(session: Session, inbound: InboundMessage, customer_id: int) -> Conversation | None:
    """The conversation of the message this one answers; a closed conversation stays closed."""
    if inbound.references:
        row = session.execute(
            select(Conversation)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(Message.shop_id == inbound.shop_id, Message.channel == inbound.channel,
                   Message.external_id.in_(inbound.references[:ingest_pg.MAX_REFERENCES]),
                   Conversation.status != "closed")
            .order_by(Message.id.desc())
            .limit(1)
        ).scalars().first()
        if row is not None:
            return row
    if inbound.conversation_ref is not None and valid_id(inbound.conversation_ref):
        # Only the customer's own: a number in a subject is easy to guess.
        return session.scalars(
            select(Conversation).where(
                Conversation.shop_id == inbound.shop_id, Conversation.id == inbound.conversation_ref,
                Conversation.customer_id == customer_id, Conversation.status != "closed",
            )
        ).first()
    return None


def _new_conversation(
    session: Session, inbound: InboundMessage, customer_id: int, now: dt.datetime
) -> Conversation:
    conversation = Conversation(
        shop_id=inbound.shop_id,
        customer_id=customer_id,
        channel=inbound.channel,
        channel_address=inbound.channel_address,
        subject=_subject(inbound),
        status="open",
        last_activity_at=now,
        created_at=now,
    )
    session.add(conversation)
    session.flush()
    return conversation


def _subject(inbound: InboundMessage) -> str:
    return (inbound.subject.strip() or text.preview(inbound.text, 80))[:MAX_SUBJECT]


def _preview(body_text: str, inbound: InboundMessage) -> str:
    return text.preview(body_text or inbound.files[0].filename)
