"""parse(raw) -> ParsedMail: one received mail as the fields the e-mail channel needs.

Pure: no database, no network, no clock. Never raises on bad input: what cannot be
understood is reported in `defects`, and a mail whose structure could not be read in
full is flagged `unparsable` with a `reason`, carrying whatever could be read.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.message import EmailMessage

from balie import htmltext
from balie import text as balie_text
from balie.channels.email import bodies, charsets, headers, mime, quotes
from balie.channels.email.bodies import Attachment
from balie.channels.email.headers import Address

_HEAD_ELEMENT = re.compile(r"<head\b.*?</head\s*>", re.I | re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The sanitiser (nh3) takes time quadratic in the nesting of block elements and in the
# number of character references; beyond these limits the HTML is left out (the text
# stays). 1 MiB is also what ingest accepts.


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # "<id@host>"; synthetic (see message_id_synthetic) when the mail had none
    message_id_synthetic: bool
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str  # decoded, whitespace collapsed
    from_address: str  # lower-cased; "" when the mail has no usable sender
    from_name: str
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: dt.datetime | None  # aware
    auto_submitted: str | None  # the Auto-Submitted keyword, lower-cased ("auto-replied", ...)
    content_type: str  # of the whole mail, e.g. "multipart/report"
    headers: tuple[tuple[str, str], ...]  # every header in order, decoded (first MAX_HEADERS)
    text: str  # what the sender wrote this time: no quoted history, signature or mobile footer
    full_text: str  # the whole body as readable text
    html: str | None  # the HTML body, sanitised; None for a plain-text mail
    attachments: tuple[Attachment, ...]
    unparsable: bool = False
    reason: str | None = None  # why the mail is unparsable
    defects: tuple[str, ...] = ()  # what was wrong but could be worked around

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive), decoded."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def header_all(self, name: str) -> tuple[str, ...]:
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == wanted)


def parse(raw: bytes) -> ParsedMail:
    """Never raises: an unexpected error still gives a ParsedMail, flagged unparsable."""
    data = bytes(raw)
    try:
        return _parse(data)
    except Exception as error:  # the promise is a ParsedMail for any input
        return _last_resort(data, f"parser error: {type(error).__name__}")


def _parse(raw: bytes) -> ParsedMail:
    data = _strip_envelope(raw)
    tree = mime.split(data)
    root = tree.root.headers
    defects = list(tree.defects)
    hint = _charset_hint(tree.root)

    sender, sender_header = headers.first_sender(root, hint)
    if sender is None or not sender.address:
        defects.append("no usable From address")
    elif sender_header != "from":
        defects.append(f"no usable From address, the sender was taken from {sender_header.title()}")
    raw_id = _first(root, "message-id")
    message_id = headers.message_id(raw_id)
    if message_id is None:
        defects.append("no Message-ID, a synthetic one was made")
    in_reply_to = headers.message_ids(_first(root, "in-reply-to"))
    subject_raw = _first(root, "subject")
    date = headers.date(_first(root, "date"))

    text, full_text, html, attachments = _body(tree.root, hint, defects)
    reason = tree.truncated
    if not data.strip():
        reason = "empty input"
    elif not root.keys():
        reason = reason or "no header block"
    auto = _first(root, "auto-submitted")
    return ParsedMail(
        message_id=message_id or headers.synthetic_message_id(raw),
        message_id_synthetic=message_id is None,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=headers.message_ids(" ".join(headers.raw_values(root, "references"))),
        subject=headers.text_value(subject_raw, "subject", hint) if subject_raw else "",
        from_address=sender.address if sender else "",
        from_name=sender.name if sender else "",
        reply_to=headers.addresses(root, "reply-to", hint),
        to=headers.addresses(root, "to", hint),
        cc=headers.addresses(root, "cc", hint),
        date=date,
        auto_submitted=(headers.text_value(auto).split(";")[0].strip().lower() or None) if auto else None,
        content_type=tree.root.content_type,
        headers=_decoded_headers(root, hint),
        text=text,
        full_text=full_text,
        html=html,
        attachments=attachments,
        unparsable=reason is not None,
        reason=reason,
        defects=tuple(dict.fromkeys(defects)),
    )


def _body(root: mime.Part, hint: str | None, defects: list[str]) -> tuple[str, str, str | None,
                                                                          tuple[Attachment, ...]]:
    """(text, full_text, html, attachments) of the mail; problems are added to `defects`."""
    body = bodies.collect(root, hint)
    defects.extend(body.defects)
    readable, from_html = [], []
    for segment in body.segments:
        html_text = htmltext.html_to_text(segment.html) if segment.html is not None else ""
        if segment.html is not None and not html_text and "<img" not in segment.html.lower() and (
                segment.plain and segment.plain.strip()):
            # An HTML alternative with nothing to see while the plain one has text: an agent
            # shown that HTML would see an empty message.
            segment.html = None
            defects.append("empty HTML alternative left out")
        readable.append(html_text or (segment.as_sent or segment.plain or "").strip("\n"))
        from_html.append(bool(html_text))
    full_text = _CONTROL.sub("", "\n\n".join(text for text in readable if text).strip())
    html, html_problem = _html_of(body.segments)
    if html_problem:
        defects.append(f"HTML left out: {html_problem}")
    source = "\n\n".join(_reply_source(segment, html) for segment, html in zip(body.segments, from_html, strict=True))
    text = _CONTROL.sub("", quotes.reply_text(source, full_text))
    if not full_text and not html and not body.attachments:
        defects.append("no body content")
    return text, full_text, html, tuple(body.attachments)


def _strip_envelope(raw: bytes) -> bytes:
    """Without the mbox "From " line and blank lines some tools put before the headers."""
    data = raw.lstrip(b"\r\n")
    if data.startswith(b"From "):
        data = data.partition(b"\n")[2]
    return data


def _first(message: EmailMessage, name: str) -> str | None:
    values = headers.raw_values(message, name)
    return values[0] if values else None


def _charset_hint(part: mime.Part) -> str | None:
    """The charset the mail declares first, for raw 8-bit headers and unlabelled parts."""
    pending = [part]
    while pending:
        current = pending.pop(0)
        charset = current.param("charset")
        if isinstance(charset, str) and charsets.python_codec(charset):
            return charset
        pending.extend(current.children)
    return None


def _reply_source(segment: bodies.Segment, html_has_text: bool) -> str:
    """The text the reply is cut from: the HTML side (what the sender saw and an agent
    sees; generated plain alternatives drop links, tables and sometimes whole lines)
    without its quote containers (see htmltext), else the plain side."""
    if segment.html is not None and html_has_text:
        return htmltext.html_to_text(segment.html, drop_quotes=True)
    return segment.plain or ""


def _html_of(segments: list[bodies.Segment]) -> tuple[str | None, str | None]:
    """The sanitised HTML body, or None with the reason it was left out."""
    if not any(segment.html is not None for segment in segments):
        return None, None
    pieces = []
    for segment in segments:
        if segment.html is not None:
            # The <head> holds no content but a <title> whose text the sanitiser would keep.
            has_head = "</head" in segment.html[:200_000].lower()
            pieces.append(_HEAD_ELEMENT.sub("", segment.html, count=1) if has_head else segment.html)
        elif segment.plain:
            pieces.append(balie_text.text_to_html(segment.plain))
    html = _CONTROL.sub("", "\n".join(pieces))
    problem = balie_text.html_too_costly(html)
    if problem:
        return None, problem
    return balie_text.sanitise_html(html), None


def _decoded_headers(message: EmailMessage, hint: str | None) -> tuple[tuple[str, str], ...]:
    decoded = []
    for name, value in list(message.raw_items())[: headers.MAX_HEADERS]:
        decoded.append((str(name), headers.text_value(str(value), "x-unstructured", hint)))
    return tuple(decoded)


def _last_resort(raw: bytes, reason: str) -> ParsedMail:
    """The body as text, nothing else: used only when the parser itself failed."""
    text, _ = charsets.decode(raw, None)
    text = text.replace("\x00", "")
    return ParsedMail(
        message_id=headers.synthetic_message_id(raw), message_id_synthetic=True, in_reply_to=None,
        references=(), subject="", from_address="", from_name="", reply_to=(), to=(), cc=(), date=None,
        auto_submitted=None, content_type="text/plain", headers=(), text=text.strip(),
        full_text=text.strip(), html=None, attachments=(), unparsable=True, reason=reason,
        defects=(reason,),
    )
