"""The chat channel's domain: visitors and their tokens, signed customer tokens, the visitor's
messages going in through the single ingest path, and what a visitor may see of the
conversation (their own messages and the agents' replies, with the agent's first name; never
notes, e-mail addresses or anything about other visitors).

Entry points (the widget socket and HTTP routes) own the transaction; nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from balie import clock, security
from balie.agents.models import Agent
from balie.channels.chat import settings as widget_settings
from balie.channels.chat.models import ChatVisitor, WidgetSettings
from balie.conversations.ingest import InboundFile, InboundMessage, IngestResult, ingest
from balie.conversations.models import Attachment, Conversation, Message
from balie.customers import service as customer_service
from balie.customers.service import IdentityRef
from balie.errors import Invalid
from balie.events import Event, publish_on_commit
from balie.inputs import check_line
from balie.shops.models import Shop
from balie.storage import FileStore

CHANNEL = "chat"
VISITOR_DAYS = 180  # a visitor token nobody used for this long starts over
MAX_TEXT = 5000  # characters in one chat message
MAX_FILE_BYTES = 10 * 1024 * 1024
# What a visitor may send: pictures and PDFs, recognised by their first bytes, not their name.
FILE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
MAX_CLIENT_ID = 64
HISTORY_LIMIT = 200
LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class CustomerClaim:
    """What a shop's page says about its logged-in customer, signed with the widget secret:
    `signature` = hex HMAC-SHA256(secret, "<customer_id>|<email>|<expires>")."""

    customer_id: str
    email: str
    expires: int  # Unix seconds
    signature: str

    def message(self) -> bytes:
        return f"{self.customer_id}|{self.email}|{self.expires}".encode()


def sign_claim(secret: str, customer_id: str, email: str, expires: int) -> str:
    """What the shop's server computes (documented in docs/widget.md; used by tests and demo)."""
    return hmac.new(secret.encode(), f"{customer_id}|{email}|{expires}".encode(), hashlib.sha256).hexdigest()


def shop_by_key(session: Session, public_key: str) -> Shop | None:
    if not public_key or len(public_key) > 64:
        return None
    return session.scalars(select(Shop).where(Shop.public_key == public_key)).first()


def settings_for(session: Session, shop_id: int) -> WidgetSettings:
    """The shop's widget settings (made with the defaults and a secret on first use)."""
    return widget_settings.get_or_create(session, shop_id)


def origin_allowed(widget: WidgetSettings, origin: str | None) -> bool:
    """An empty allow-list lets any site embed the widget (the default while a shop tries it out)."""
    allowed = widget_settings.origins_of(widget)
    if not allowed:
        return True
    return origin is not None and origin.rstrip("/").lower() in allowed


def start_visitor(session: Session, shop_id: int, language: str) -> tuple[str, ChatVisitor]:
    token = security.new_token("cv")
    now = clock.now()
    visitor = ChatVisitor(
        shop_id=shop_id, token_hash=security.token_hash(token), key="v_" + secrets.token_urlsafe(18),
        language=language if language in LANGUAGES else "nl", visits=1, last_seen_at=now, created_at=now,
        expires_at=now + dt.timedelta(days=VISITOR_DAYS), verified=False,
    )
    session.add(visitor)
    session.flush()
    return token, visitor


def find_visitor(session: Session, shop_id: int, token: str | None) -> ChatVisitor | None:
    """The visitor behind a token, in this shop only; None for unknown, forged or expired."""
    if not token or len(token) > 200:
        return None
    visitor = session.scalars(
        select(ChatVisitor).where(ChatVisitor.token_hash == security.token_hash(token), ChatVisitor.shop_id == shop_id)
    ).first()
    if visitor is None or (visitor.expires_at is not None and visitor.expires_at <= clock.now()):
        return None
    return visitor


def visitor_by_key(session: Session, key: str) -> ChatVisitor | None:
    if not key or len(key) > 40:
        return None
    return session.scalars(select(ChatVisitor).where(ChatVisitor.key == key)).first()


def resume(session: Session, visitor: ChatVisitor, *, new_visit: bool, language: str) -> None:
    now = clock.now()
    visitor.last_seen_at = now
    visitor.expires_at = now + dt.timedelta(days=VISITOR_DAYS)
    if language in LANGUAGES:
        visitor.language = language
    if new_visit:
        visitor.visits += 1


def check_claim(widget: WidgetSettings, claim: CustomerClaim) -> None:
    """Raises Invalid unless the claim is signed with this shop's secret and not expired."""
    if not (claim.customer_id or claim.email):
        raise Invalid("a customer token needs a customer id or an e-mail address", code="invalid_customer_token")
    expected = hmac.new(widget.secret.encode(), claim.message(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, claim.signature.lower()):
        raise Invalid("the customer token's signature does not match", code="invalid_customer_token")
    if claim.expires <= int(clock.now().timestamp()):
        raise Invalid("the customer token has expired", code="expired_customer_token")


def claim_identities(claim: CustomerClaim) -> list[IdentityRef]:
    refs = []
    if claim.customer_id:
        refs.append(customer_service.normalise("external", claim.customer_id))
    if claim.email:
        refs.append(customer_service.normalise("email", claim.email))
    return refs


def vouched(session: Session, visitor: ChatVisitor, claim: CustomerClaim) -> bool:
    """Whether this visitor already stands for the customer the (checked) claim names."""
    if not visitor.verified or visitor.customer_id is None:
        return False
    known = {(i.kind, i.value) for i in customer_service.identities(
        session, shop_id=visitor.shop_id, customer_id=visitor.customer_id)}
    return all((ref.kind, ref.value) in known for ref in claim_identities(claim))


def ensure_customer(session: Session, visitor: ChatVisitor) -> int:
    """The visitor's customer, created (anonymous, known by the visitor identity) if needed."""
    if visitor.customer_id is None:
        refs = [IdentityRef("visitor", visitor.key)]
        customer = customer_service.resolve(session, shop_id=visitor.shop_id, refs=refs)
        visitor.customer_id = customer.id
    return visitor.customer_id


def link_customer(session: Session, visitor: ChatVisitor, claim: CustomerClaim) -> None:
    """The shop vouched for this browser (a checked claim): its chat belongs to that customer.
    An anonymous chat it had before is merged into the customer's history."""
    refs = [IdentityRef("visitor", visitor.key), *claim_identities(claim)]
    customer = customer_service.resolve(session, shop_id=visitor.shop_id, refs=refs)
    visitor.customer_id = customer.id
    visitor.verified = True


def visitor_message(
    session: Session, store: FileStore, visitor: ChatVisitor, *, text: str, client_id: str,
    files: Sequence[InboundFile] = (), reopen_window: dt.timedelta | None = None,
) -> IngestResult:
    """A visitor's message, through the single ingest path. `client_id` is the widget's own id
    for the message: sent again after a lost connection, it is stored once."""
    client_id = check_line(client_id, "client_id").strip()
    if not client_id or len(client_id) > MAX_CLIENT_ID:
        raise Invalid(f"client_id must be 1 to {MAX_CLIENT_ID} characters", code="invalid_client_id")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise Invalid(f"a chat message holds at most {MAX_TEXT} characters", code="message_too_long")
    if not text and not files:
        raise Invalid("the message is empty", code="empty_message")
    for inbound_file in files:
        check_file(inbound_file)
    inbound = InboundMessage(
        shop_id=visitor.shop_id, channel=CHANNEL, identities=[IdentityRef("visitor", visitor.key)],
        text=text, subject="", external_id=f"{visitor.key}:{client_id}", files=list(files),
    )
    result = ingest(session, inbound, store=store, reopen_window=reopen_window)
    visitor.customer_id = result.customer_id
    visitor.conversation_id = result.conversation_id
    return result


def check_file(inbound_file: InboundFile) -> None:
    if len(inbound_file.data) > MAX_FILE_BYTES:
        raise Invalid("a file may be at most 10 MB", code="file_too_large")
    signatures = FILE_SIGNATURES.get(inbound_file.content_type)
    if signatures is None:
        raise Invalid("only pictures (PNG, JPEG, GIF, WebP) and PDF files can be sent", code="unsupported_file")
    if not inbound_file.data.startswith(signatures):
        raise Invalid("the file is not what its type says", code="unsupported_file")


@dataclass(frozen=True)
class PublicFile:
    id: int
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class PublicMessage:
    """A message as the visitor sees it."""

    id: int
    client_id: str | None
    direction: str  # "in" (the visitor) or "out" (the shop)
    text: str
    created_at: dt.datetime
    author: str | None  # the agent's first name on replies
    files: list[PublicFile]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "client_id": self.client_id, "direction": self.direction, "text": self.text,
            "created_at": self.created_at.isoformat(), "author": self.author,
            "files": [{"id": f.id, "name": f.name, "type": f.content_type, "size": f.size} for f in self.files],
        }


def first_name(agent_name: str) -> str:
    return agent_name.split()[0] if agent_name.strip() else ""


def history(session: Session, visitor: ChatVisitor, *, after_id: int = 0,
            limit: int = HISTORY_LIMIT) -> list[PublicMessage]:
    """The visitor's conversation(s) on chat, oldest first: their messages and the replies."""
    if visitor.customer_id is None:
        return []
    query = (
        select(Message, Agent.name)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(Agent, Agent.id == Message.author_agent_id)
        .where(Message.shop_id == visitor.shop_id, Conversation.customer_id == visitor.customer_id,
               Conversation.channel == CHANNEL, Message.direction.in_(("in", "out")), Message.id > after_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    rows = list(reversed(session.execute(query).all()))
    files = _files(session, visitor.shop_id, [message.id for message, _ in rows])
    return [public(message, name, files.get(message.id, []), visitor.key) for message, name in rows]


def message_for(session: Session, visitor: ChatVisitor, message_id: int) -> PublicMessage | None:
    """One message, if it belongs to this visitor's chat (the socket pushes it)."""
    found = history(session, visitor, after_id=message_id - 1, limit=1)
    return found[0] if found and found[0].id == message_id else None


def file_for(session: Session, visitor: ChatVisitor, file_id: int) -> Attachment | None:
    """An attachment of this visitor's chat, or None (someone else's file is not found)."""
    if visitor.customer_id is None:
        return None
    return session.scalars(
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Attachment.id == file_id, Attachment.shop_id == visitor.shop_id,
               Conversation.customer_id == visitor.customer_id, Conversation.channel == CHANNEL,
               Message.direction.in_(("in", "out")))
    ).first()


def public(message: Message, agent_name: str | None, files: list[Attachment], visitor_key: str) -> PublicMessage:
    client_id = None
    prefix = visitor_key + ":"
    if message.direction == "in" and message.external_id and message.external_id.startswith(prefix):
        client_id = message.external_id[len(prefix):]
    author = first_name(agent_name) if message.direction == "out" and agent_name else None
    return PublicMessage(
        id=message.id, client_id=client_id, direction=message.direction, text=message.text,
        created_at=message.created_at, author=author,
        files=[PublicFile(f.id, f.filename, f.content_type, f.size) for f in files],
    )


def _files(session: Session, shop_id: int, message_ids: list[int]) -> dict[int, list[Attachment]]:
    if not message_ids:
        return {}
    found: dict[int, list[Attachment]] = {}
    rows = session.scalars(select(Attachment).where(Attachment.shop_id == shop_id,
                                                    Attachment.message_id.in_(message_ids)).order_by(Attachment.id))
    for attachment in rows:
        found.setdefault(attachment.message_id, []).append(attachment)
    return found


def mark_seen(session: Session, visitor: ChatVisitor, message_id: int) -> None:
    """The visitor has read the replies up to this one (only ever moves forward)."""
    if visitor.seen_message_id is None or message_id > visitor.seen_message_id:
        visitor.seen_message_id = message_id


def agent_opened(session: Session, *, shop_id: int, conversation_id: int) -> bool:
    """An agent opened a chat conversation: the visitor's messages in it are seen (the widget
    shows "gelezen"). True when that changed something (the caller commits)."""
    row = session.execute(
        select(Conversation.customer_id, func.max(Message.id))
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Conversation.id == conversation_id, Conversation.shop_id == shop_id, Conversation.channel == CHANNEL,
               Message.direction == "in")
        .group_by(Conversation.customer_id)
    ).first()
    if row is None or row[1] is None:
        return False
    customer_id, message_id = row
    changed = session.execute(
        update(ChatVisitor)
        .where(ChatVisitor.shop_id == shop_id, ChatVisitor.customer_id == customer_id,
               or_(ChatVisitor.agent_seen_message_id.is_(None), ChatVisitor.agent_seen_message_id < message_id))
        .values(agent_seen_message_id=message_id)
    )
    if not getattr(changed, "rowcount", 0):
        return False
    publish_on_commit(session, Event("chat.seen", shop_id, {
        "conversation_id": conversation_id, "customer_id": customer_id, "message_id": message_id}))
    return True


def agent_typing(session: Session, *, shop_id: int, conversation_id: int, agent_name: str) -> None:
    """An agent is typing a reply (not a note) in a chat conversation: the visitor's widget
    shows "<first name> typt…". Published after commit; nothing is stored."""
    customer_id = session.scalar(
        select(Conversation.customer_id)
        .where(Conversation.id == conversation_id, Conversation.shop_id == shop_id, Conversation.channel == CHANNEL)
    )
    if customer_id is not None:
        publish_on_commit(session, Event("chat.typing", shop_id, {
            "conversation_id": conversation_id, "customer_id": customer_id, "from": "agent",
            "author": first_name(agent_name)}))
