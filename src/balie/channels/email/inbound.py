"""One received e-mail into Balie: the raw source kept, parsed, classified, threaded, stored.

Called by the SMTP receiver and the IMAP poller alike, inside the caller's transaction.
Nothing is dropped: a mail that cannot be read is stored flagged `unparsable` with its raw
source; a bounce is attached to the outbound message it reports on; an auto-reply is shown
but reopens nothing; a sender who floods an address is held, not answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie import clock
from balie.channels.email import classify
from balie.channels.email.models import Mailbox
from balie.channels.email.parse import ParsedMail, parse
from balie.channels.email.service import Recipient
from balie.conversations.ingest import InboundFile, InboundMessage, ingest
from balie.conversations.models import Conversation, Message
from balie.customers.service import IdentityRef, normalise
from balie.errors import Invalid
from balie.events import Event, publish_on_commit
from balie.inputs import MAX_TEXT_BYTES
from balie.ratelimit import Limiter
from balie.storage import FileStore

CONVERSATION_REF = re.compile(r"\[#(\d{1,18})\]")
TEXT_LIMIT = MAX_TEXT_BYTES - 4096
HOUR = 3600


@dataclass(frozen=True)
class Received:
    outcome: str  # stored | duplicate | bounce
    conversation_id: int
    message_id: int
    flags: tuple[str, ...] = ()


def receive(
    session: Session,
    *,
    mailbox: Recipient | Mailbox,
    raw: bytes,
    store: FileStore,
    limiter: Limiter,
    hold_per_hour: int,
    envelope_from: str | None = None,
) -> Received:
    stored = store.save(raw, folder="mail")
    parsed = parse(raw)
    report = classify.bounce(parsed)
    if report is not None and report.original_message_id:
        attached = _attach_bounce(session, mailbox, parsed, report, stored.path)
        if attached is not None:
            return attached
    flags: list[str] = []
    if report is not None:
        flags.append("bounce")
    elif classify.is_auto_reply(parsed):
        flags.append("auto_reply")
    if parsed.unparsable:
        flags.append("unparsable")
    sender = _sender(parsed, envelope_from)
    if limiter.hit(f"mail:{mailbox.address}:{sender.value}", HOUR) > hold_per_hour:
        flags.append("held")  # a loop or a flood: kept for a person to look at, never answered
    text = parsed.text or parsed.full_text
    if not text.strip() and not parsed.attachments:
        text = "(no visible content)" if not parsed.unparsable else f"(unreadable mail: {parsed.reason})"
    text, cut = _fit(text)
    full_text, cut_full = _fit(parsed.full_text)
    html = parsed.html if parsed.html is None or len(parsed.html.encode("utf-8", "replace")) < TEXT_LIMIT else None
    if cut or cut_full or html != parsed.html:
        flags.append("truncated")  # the whole mail is still in its raw source
    match = CONVERSATION_REF.search(parsed.subject)
    inbound = InboundMessage(
        shop_id=mailbox.shop_id,
        channel="email",
        identities=[sender],
        text=text,
        html=html,
        subject=_line(parsed.subject)[:500] or "(no subject)",
        customer_name=_line(parsed.from_name)[:200],
        external_id=_line(parsed.message_id)[:500],
        files=[InboundFile(a.filename or "attachment", a.content_type, a.data) for a in parsed.attachments],
        channel_address=mailbox.address,
        full_text=full_text,
        raw_path=stored.path,
        flags=flags,
        explicit_threading=True,
        references=[ref for ref in (parsed.in_reply_to, *reversed(parsed.references)) if ref],
        conversation_ref=int(match.group(1)) if match else None,
        quiet=bool(flags and set(flags) & {"bounce", "auto_reply", "held"}),
    )
    result = ingest(session, inbound, store=store)
    return Received(outcome="stored" if result.created else "duplicate", conversation_id=result.conversation_id,
                    message_id=result.message_id, flags=tuple(flags))


def _fit(value: str) -> tuple[str, bool]:
    """Message text within what a message may hold (the raw source keeps everything)."""
    value = value.replace("\x00", "")
    if len(value.encode("utf-8", "replace")) <= TEXT_LIMIT:
        return value, False
    return value.encode("utf-8", "replace")[:TEXT_LIMIT].decode("utf-8", "ignore") + "\n[…]", True


def _line(value: str) -> str:
    """A header value fit for a one-line field: control characters become spaces."""
    return "".join(" " if ord(c) < 32 or c == "\x7f" else c for c in value).strip()


def _sender(parsed: ParsedMail, envelope_from: str | None) -> IdentityRef:
    """The customer: From, else Reply-To, else the envelope sender; a mail without any is
    still kept, under one 'unknown sender' customer per shop."""
    candidates = [parsed.from_address, *(a.address for a in parsed.reply_to), envelope_from or ""]
    for candidate in candidates:
        try:
            return normalise("email", candidate)
        except Invalid:
            continue
    return normalise("external", "unknown-email-sender")


def _attach_bounce(
    session: Session, mailbox: Recipient | Mailbox, parsed: ParsedMail, report: classify.Bounce, raw_path: str
) -> Received | None:
    """A delivery report about one of our replies: that reply is marked failed with the
    reason, and the report is kept beside it as a system note. None when it is not ours."""
    original = session.scalars(
        select(Message).where(Message.shop_id == mailbox.shop_id, Message.channel == "email",
                              Message.direction == "out", Message.external_id == report.original_message_id)
    ).first()
    if original is None:
        return None
    existing = session.scalars(
        select(Message).where(Message.shop_id == mailbox.shop_id, Message.channel == "email",
                              Message.external_id == parsed.message_id)
    ).first()
    if existing is not None:
        return Received("duplicate", existing.conversation_id, existing.id, ("bounce",))
    reason = f"bounced ({report.status or report.action}): {report.diagnostic}".strip()[:1000]
    if report.action == "failed":
        original.delivery_state, original.delivery_error = "failed", reason
    note = Message(
        shop_id=mailbox.shop_id, conversation_id=original.conversation_id, direction="note", channel="email",
        text=f"Delivery report for the reply of {original.created_at:%Y-%m-%d %H:%M} UTC: {reason}",
        full_text=parsed.full_text, external_id=parsed.message_id, raw_path=raw_path, flags="bounce",
        created_at=clock.now(),
    )
    session.add(note)
    conversation = session.get_one(Conversation, original.conversation_id)
    conversation.message_count = Conversation.message_count + 1
    session.flush()
    publish_on_commit(session, Event("message.delivery", mailbox.shop_id, {
        "conversation_id": original.conversation_id, "message_id": original.id,
        "state": original.delivery_state}))
    return Received("bounce", original.conversation_id, note.id, ("bounce",))


def receive_unreadable(
    session: Session, *, mailbox: Recipient | Mailbox, raw: bytes, store: FileStore, reason: str
) -> Received:
    """The last resort when a mail was refused as stored: keep it anyway, flagged, so that
    the sender is not asked to retry something that will never go in."""
    stored = store.save(raw, folder="mail")
    result = ingest(session, InboundMessage(
        shop_id=mailbox.shop_id, channel="email", identities=[normalise("external", "unknown-email-sender")],
        text=f"(this mail could not be stored as it was sent: {reason}; its raw source is kept)",
        subject="(unreadable mail)", external_id=f"<raw-{stored.sha256}@balie>", channel_address=mailbox.address,
        raw_path=stored.path, flags=["unparsable"], explicit_threading=True,
    ), store=store)
    return Received("stored" if result.created else "duplicate", result.conversation_id, result.message_id,
                    ("unparsable",))
