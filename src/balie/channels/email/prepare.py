"""Preparing one outbound e-mail from the database: the support address and its relay, the
customer's address, the thread's Message-IDs and the attachments, composed into bytes.

Runs in a short read-only session of its own; nothing here talks to the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie.channels.base import Delivery, PermanentFailure
from balie.channels.email import outbound
from balie.channels.email.models import Mailbox
from balie.channels.email.service import SECURITY, parse_server_url
from balie.conversations.models import Attachment, Message
from balie.db import scoped
from balie.errors import Invalid
from balie.storage import FileStore

DEFAULT_PORTS = {"tls": 465, "starttls": 587, "none": 25}
QUIET_FLAGS = {"auto_reply", "bounce"}
AUTOMATIC_FLAG = "acknowledgement"  # sla/acknowledging.py (a channel does not import the SLA)
RAW_HEAD_BYTES = 64 * 1024  # a From header is near the top; never read a whole 25 MB mail for it


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    security: str  # tls | starttls | none
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    # Set by a shop (checked like a webhook URL), not by the install's operator.
    shop_owned: bool = False


@dataclass(frozen=True)
class Outgoing:
    relay: Relay
    sender: str  # envelope MAIL FROM: the support address, where bounces belong
    recipient: str
    data: bytes


@dataclass(frozen=True)
class _Earlier:
    direction: str
    message_id: str | None
    quiet: bool
    sent: bool
    raw_path: str | None


def prepare(session: Session, delivery: Delivery, *, store: FileStore, default_relay: str | None) -> Outgoing:
    conversation = delivery.conversation
    mailbox, support_address = _support_address(session, delivery)
    relay = _relay(mailbox, default_relay, support_address)
    earlier = _earlier_messages(session, delivery)
    inbound = [m for m in earlier if m.direction == "in"]
    answered = [m for m in inbound if not m.quiet] or inbound
    recipient = _recipient(delivery, store.root, answered)
    own_id = outbound.message_id(delivery.message.external_id) or f"<{delivery.delivery_id}@email.balie>"
    draft = outbound.Draft(
        sender=support_address,
        sender_name=(mailbox.display_name if mailbox else "") or delivery.shop.name,
        recipient=recipient,
        recipient_name=delivery.customer.name,
        subject=conversation.subject,
        conversation_id=conversation.id,
        message_id=own_id,
        text=delivery.message.text,
        date=delivery.message.created_at,
        delivery_id=delivery.delivery_id,
        signature=mailbox.signature if mailbox else "",
        in_reply_to=next((m.message_id for m in reversed(answered) if m.message_id), None),
        # What the customer saw: their own messages and what we did send them.
        references=[m.message_id for m in earlier if m.message_id and (m.direction == "in" or m.sent)],
        files=_files(session, delivery, store),
        automatic=AUTOMATIC_FLAG in delivery.message.flags.split(),
    )
    return Outgoing(relay=relay, sender=support_address, recipient=recipient,
                    data=outbound.wire_bytes(outbound.compose(draft)))


def _support_address(session: Session, delivery: Delivery) -> tuple[Mailbox | None, str]:
    """The address the customer wrote to; else (a conversation from before addresses were
    kept) the shop's first mailbox."""
    shop_id = delivery.conversation.shop_id
    address = delivery.conversation.channel_address
    query = scoped(Mailbox, shop_id)
    if address:
        query = query.where(Mailbox.address == address.strip().lower())
    mailbox = session.scalars(query.order_by(Mailbox.id).limit(1)).first()
    address = address or (mailbox.address if mailbox else None)
    if not address:
        raise PermanentFailure("no support address to send from: add a mailbox for this shop")
    sendable = outbound.sendable_address(address)
    if sendable is None:
        raise PermanentFailure(f"the support address {address!r} cannot be sent from")
    return mailbox, sendable


def _relay(mailbox: Mailbox | None, default_relay: str | None, address: str) -> Relay:
    if mailbox is not None and mailbox.smtp_host:
        security = mailbox.smtp_security
        if security not in SECURITY:
            raise PermanentFailure(f"SMTP security of {address} must be one of {', '.join(SECURITY)}")
        authenticate = bool(mailbox.smtp_user) and mailbox.smtp_password is not None
        return Relay(host=mailbox.smtp_host, port=mailbox.smtp_port or DEFAULT_PORTS[security],
                     security=security, user=mailbox.smtp_user if authenticate else None,
                     password=mailbox.smtp_password if authenticate else None, shop_owned=True)
    if not default_relay:
        raise PermanentFailure(f"no SMTP relay configured for {address}")
    try:
        server = parse_server_url(default_relay, kind="smtp")
    except Invalid as error:
        raise PermanentFailure(f"BALIE_SMTP_RELAY is not usable: {error.detail}") from None
    authenticate = bool(server.user) and server.password is not None
    return Relay(host=server.host, port=server.port, security=server.security,
                 user=server.user if authenticate else None, password=server.password if authenticate else None)


def _earlier_messages(session: Session, delivery: Delivery) -> list[_Earlier]:
    rows = session.execute(
        select(Message.direction, Message.external_id, Message.flags, Message.delivery_state, Message.raw_path)
        .where(
            Message.shop_id == delivery.conversation.shop_id,
            Message.conversation_id == delivery.conversation.id,
            Message.id < delivery.message.id,
            Message.direction.in_(("in", "out")),
        )
        .order_by(Message.id)
    ).all()
    return [
        _Earlier(direction=row.direction, message_id=outbound.message_id(row.external_id),
                 quiet=bool(QUIET_FLAGS & set(row.flags.split())), sent=row.delivery_state == "sent",
                 raw_path=row.raw_path)
        for row in rows
    ]


def _recipient(delivery: Delivery, root: Path, answered: list[_Earlier]) -> str:
    """The customer's address they last wrote from, if we can tell; else their first one."""
    emails = [i.value for i in sorted(delivery.identities, key=lambda i: i.id) if i.kind == "email"]
    if not emails:
        raise PermanentFailure("the customer has no e-mail address to send to")
    chosen = emails[0]
    if len(emails) > 1:
        latest = next((m for m in reversed(answered) if m.raw_path), None)
        written_from = _from_address(root, latest.raw_path) if latest and latest.raw_path else None
        if written_from in emails:
            chosen = written_from
    sendable = outbound.sendable_address(chosen)
    if sendable is None:
        raise PermanentFailure(f"the customer's e-mail address {chosen!r} cannot be sent to")
    return sendable


def _from_address(root: Path, raw_path: str) -> str | None:
    """The From address in the head of a stored raw mail (None if it cannot be read)."""
    path = (root / raw_path).resolve()
    if root.resolve() not in path.parents:
        return None
    try:
        with path.open("rb") as source:
            head = source.read(RAW_HEAD_BYTES)
    except OSError:
        return None
    headers = BytesHeaderParser().parsebytes(head)
    addresses = [address for _name, address in getaddresses([str(value) for value in headers.get_all("From", [])])]
    return addresses[0].strip().lower() if len(addresses) == 1 and addresses[0] else None


def _files(session: Session, delivery: Delivery, store: FileStore) -> list[outbound.File]:
    query = scoped(Attachment, delivery.conversation.shop_id).where(Attachment.message_id == delivery.message.id)
    files = []
    for attachment in session.scalars(query.order_by(Attachment.id)):
        try:
            data = store.open(attachment.path)
        except (OSError, ValueError):
            raise PermanentFailure(f"attachment {attachment.filename!r} is missing from the file store") from None
        files.append(outbound.File(attachment.filename, attachment.content_type, data))
    return files
