"""Composing an outbound e-mail (pure: plain data in, bytes out): the reply as text and HTML,
the addresses, and the headers that thread it in the customer's mail client and back into Balie.

Every value that reaches a header is checked or flattened here, whatever was checked before:
an address is one strict addr-spec, a Message-ID one `<…@…>` without spaces, and text is
squashed to one line, so nothing a customer or an agent typed can add a header.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

MAX_REFERENCES = 20
MAX_MESSAGE_ID = 500
# Headers we fold ourselves (Message-IDs: see `compose`) are written as given; all others are
# folded by the policy at 78 characters.
WIRE_POLICY = policy.SMTP.clone(refold_source="none")

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII without space, < and >
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|aw|antw|sv|vs|ref)\s*(?:\[\d+\])?\s*:)+\s*", re.IGNORECASE)
_CONVERSATION_TAG = re.compile(r"\s*\[#\d+\]")
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Draft:
    sender: str  # the support address (checked with sendable_address)
    sender_name: str
    recipient: str  # the customer's address (checked with sendable_address)
    recipient_name: str
    subject: str  # the conversation's subject, as stored
    conversation_id: int
    message_id: str  # ours, `<…@…>`
    text: str
    date: dt.datetime
    delivery_id: str
    signature: str = ""
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)  # oldest first
    files: list[File] = field(default_factory=list)
    # Balie wrote it, not a person (the automatic acknowledgement).
    automatic: bool = False


def sendable_address(value: str) -> str | None:
    """The address as it goes on the wire (domain in IDNA), or None when it is not exactly one
    plain address: no display name, no list, no spaces, no quoted or non-ASCII local part
    (which would need SMTPUTF8, not supported yet)."""
    local, at, domain = value.strip().rpartition("@")
    if not at or len(value) > 320 or not _LOCAL_PART.fullmatch(local) or len(local) > 64:
        return None
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or len(ascii_domain) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if labels[-1].isdigit():  # a bare IP address is no mail domain
        return None
    return f"{local}@{ascii_domain}"


def message_id(value: str | None) -> str | None:
    """A Message-ID fit for a header (`<local@domain>`), or None."""
    if not value:
        return None
    value = value.strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    return value if len(value) <= MAX_MESSAGE_ID and _MESSAGE_ID.fullmatch(value) else None


def one_line(value: str, limit: int = 500) -> str:
    """Any text squashed to one header-safe line: line breaks and control characters become spaces."""
    cleaned = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in value)
    return " ".join(cleaned.split())[:limit]


def subject_line(subject: str, conversation_id: int, *, reply: bool) -> str:
    """`Re: <subject> [#<id>]`: one Re:, and the conversation number exactly once (the
    receiving side threads by it when a client drops the references)."""
    clean = _CONVERSATION_TAG.sub("", one_line(subject))
    clean = _REPLY_PREFIX.sub("", clean).strip()
    tag = f"[#{conversation_id}]"
    line = f"{clean} {tag}" if clean else tag
    return f"Re: {line}" if reply else line


def capped_references(ids: list[str], cap: int = MAX_REFERENCES) -> list[str]:
    """The first Message-ID (the thread's root) and the most recent ones (RFC 5322 3.6.4)."""
    unique = list(dict.fromkeys(ids))
    return unique if len(unique) <= cap else [unique[0], *unique[-(cap - 1):]]


def _signature_block(signature: str) -> str:
    signature = signature.replace("\r\n", "\n").strip()
    if not signature:
        return ""
    # "-- " on a line of its own is how mail clients (and our own quote stripper) find it.
    return signature if signature.startswith("--") else f"-- \n{signature}"


def text_body(text: str, signature: str = "") -> str:
    body = text.replace("\r\n", "\n").strip()
    block = _signature_block(signature)
    return f"{body}\n\n{block}\n" if block else f"{body}\n"


def html_body(text: str, signature: str = "") -> str:
    """The reply as HTML paragraphs: everything escaped, blank lines start a paragraph."""

    def paragraphs(value: str, css_class: str = "") -> list[str]:
        attribute = f' class="{css_class}"' if css_class else ""
        return [
            f"<p{attribute}>" + html.escape(part.strip("\n")).replace("\n", "<br>\n") + "</p>"
            for part in re.split(r"\n[ \t]*\n", value.replace("\r\n", "\n").strip())
            if part.strip()
        ]

    parts = paragraphs(text)
    block = _signature_block(signature)
    if block:
        parts.append("<p class=\"signature\">" + html.escape(block).replace("\n", "<br>\n") + "</p>")
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
            + "\n".join(parts) + "\n</body></html>\n")


def _address(name: str, address: str) -> Address:
    return Address(display_name=one_line(name, 200), addr_spec=address)


def _attachment_type(content_type: str) -> tuple[str, str]:
    content_type = content_type.strip().lower()
    if not _CONTENT_TYPE.fullmatch(content_type):
        return "application", "octet-stream"
    maintype, subtype = content_type.split("/", 1)
    if maintype in ("multipart", "message"):  # these may not be base64-encoded: send them as bytes
        return "application", "octet-stream"
    return maintype, subtype


def _filename(value: str) -> str:
    name = one_line(value, 200).replace("/", "_").replace("\\", "_").strip(". ")
    return name or "attachment"


def compose(draft: Draft) -> EmailMessage:
    for address in (draft.sender, draft.recipient):
        if sendable_address(address) != address:
            raise ValueError(f"not a sendable address: {address!r}")
    own_id = message_id(draft.message_id)
    if own_id is None:
        raise ValueError(f"not a Message-ID: {draft.message_id!r}")
    parent = message_id(draft.in_reply_to)
    references = capped_references([ref for ref in map(message_id, draft.references) if ref])

    message = EmailMessage(policy=policy.SMTP)
    message["From"] = _address(draft.sender_name, draft.sender)
    message["Reply-To"] = _address(draft.sender_name, draft.sender)
    message["To"] = _address(draft.recipient_name, draft.recipient)
    message["Subject"] = subject_line(draft.subject, draft.conversation_id,
                                      reply=bool(parent or references))
    message["Date"] = format_datetime(draft.date.astimezone(dt.UTC))
    # Message-IDs are set raw and folded by us, one per line: the policy would fold a long
    # one (Outlook's are near 100 characters) into RFC 2047 encoded words, and a client that
    # cannot match the id any more breaks the thread.
    message.set_raw("Message-ID", own_id)
    if parent:
        message.set_raw("In-Reply-To", parent)
    if references:
        message.set_raw("References", "\r\n ".join(references))
    message["X-Balie-Delivery"] = one_line(draft.delivery_id, 100)
    if draft.automatic:
        # RFC 3834: the customer's out-of-office must not answer an automatic answer (no ping-pong).
        message["Auto-Submitted"] = "auto-replied"
    # Otherwise no Auto-Submitted: a person wrote this, so out-of-office replies may answer it.

    message.set_content(text_body(draft.text, draft.signature), cte="quoted-printable")
    message.add_alternative(html_body(draft.text, draft.signature), subtype="html", cte="quoted-printable")
    for file in draft.files:
        maintype, subtype = _attachment_type(file.content_type)
        message.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=_filename(file.filename))
    return message


def wire_bytes(message: EmailMessage) -> bytes:
    """CRLF line ends, 7-bit clean (bodies are quoted-printable or base64, headers RFC 2047)."""
    return message.as_bytes(policy=WIRE_POLICY)
