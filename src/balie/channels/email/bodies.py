"""From the MIME tree to the message body (plain and HTML) and its attachments.

multipart/alternative gives one body with a plain and an HTML side, multipart/related a
body and the inline resources it refers to, every other multipart its parts in order.
Text parts are decoded (charset, format=flowed, uuencoded blocks), everything else is
kept as an attachment: forwarded messages as .eml, winmail.dat as it came.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field

from balie import text as balie_text
from balie.channels.email import charsets, headers
from balie.channels.email.mime import Part, decode_uu, parse_headers, raw_header, split_head, transfer_decode

# Leaves kept as attachments with a readable name even though they have none.
_NAMES = {
    "message/rfc822": "message.eml",
    "message/global": "message.eml",
    "message/delivery-status": "delivery-status.txt",
    "message/global-delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "text/rfc822-headers": "headers.txt",
    "application/ms-tnef": "winmail.dat",
    "application/vnd.ms-tnef": "winmail.dat",
    "application/pgp-signature": "signature.asc",
    "application/pgp-encrypted": "pgp-encrypted.asc",
    "text/calendar": "invite.ics",
}
_BODY_TYPES = {"text/plain", "text/html", "text/enriched", "text/richtext"}
_UU_BEGIN = re.compile(r"^begin [0-7]{3,4} \S")
_UU_LINE = re.compile(r"^[\x20-\x60]{0,100}$")
_NEWLINES = re.compile(r"\r+\n")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None  # without angle brackets, as cid: URLs refer to it
    inline: bool = False


@dataclass
class Segment:
    """One run of body text; an alternative gives both sides, a single part one of them."""

    plain: str | None = None
    html: str | None = None
    # The plain text as it came, where something (a uuencoded file) was taken out of `plain`:
    # the whole body (full_text) keeps it, the customer's words (text) do not.
    as_sent: str | None = None


@dataclass
class Body:
    segments: list[Segment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def extend(self, other: Body) -> None:
        self.segments.extend(other.segments)
        self.attachments.extend(other.attachments)
        self.defects.extend(other.defects)


def collect(part: Part, hint: str | None) -> Body:
    """The body of a part. Recursion is bounded by the tree's depth (mime.MAX_DEPTH)."""
    kind = part.content_type
    if kind.startswith("multipart/"):
        if kind == "multipart/alternative":
            return _alternative(part, hint)
        if kind == "multipart/related":
            return _related(part, hint)
        body = Body()
        for child in part.children:
            body.extend(collect(child, hint))
        return body
    return _leaf(part, hint)


def _alternative(part: Part, hint: str | None) -> Body:
    bodies = [collect(child, hint) for child in part.children]
    with_html = [body for body in bodies if any(segment.html is not None for segment in body.segments)]
    with_plain = [body for body in bodies
                  if any(segment.plain is not None and segment.plain.strip() for segment in body.segments)]
    html_body = with_html[-1] if with_html else None
    plain_body = with_plain[0] if with_plain else None
    chosen = [body for body in (plain_body, html_body) if body is not None]
    result = Body()
    if html_body is not None and plain_body is not None and html_body is not plain_body:
        plain = "\n\n".join(s.plain for s in plain_body.segments if s.plain is not None and s.plain.strip())
        html = "".join(s.html if s.html is not None else _escape(s.plain or "") for s in html_body.segments)
        result.segments.append(Segment(plain=plain, html=html))
    elif chosen:
        result.segments.extend(chosen[0].segments)
    elif bodies:
        result.segments.extend(bodies[0].segments)
    for body in bodies:
        result.defects.extend(body.defects)
        # Alternatives we do not show but an agent may want (a calendar invitation).
        result.attachments.extend(body.attachments)
    return result


def _related(part: Part, hint: str | None) -> Body:
    if not part.children:
        return Body()
    start = _param(part, "start")
    root = part.children[0]
    if start:
        for child in part.children:
            if _content_id(child) == start.strip().strip("<>"):
                root = child
                break
    body = collect(root, hint)
    for child in part.children:
        if child is root:
            continue
        resource = collect(child, hint)
        body.defects.extend(resource.defects)
        body.attachments.extend(resource.attachments)
        # A text resource in a related part is a file the HTML refers to, not body text.
        for segment in resource.segments:
            text = segment.plain if segment.plain is not None else segment.html or ""
            kind = "text/plain" if segment.plain is not None else "text/html"
            body.attachments.append(Attachment(_name(child, kind), kind, text.encode("utf-8"),
                                               _content_id(child), True))
    return body


def _leaf(part: Part, hint: str | None) -> Body:
    body = Body()
    data, problem = transfer_decode(part)
    if problem:
        body.defects.append(problem)
    kind = part.content_type
    disposition = _disposition(part)
    filename = _filename(part)
    if kind in _BODY_TYPES and disposition != "attachment" and not filename:
        text, mislabelled = _decode_text(part, data, hint)
        text = _NEWLINES.sub("\n", text).replace("\r", "\n")
        if mislabelled:
            label = _param(part, "charset") or "missing"
            body.defects.append(f"charset {label[:40]!r} did not fit, decoded with a fallback")
        if kind == "text/html":
            body.segments.append(Segment(html=text))
        else:
            if _param(part, "format", "").lower() == "flowed":
                text = unflow(text, delete_space=_param(part, "delsp", "").lower() == "yes")
            stripped, files = extract_uuencoded(text)
            body.attachments.extend(files)
            body.segments.append(Segment(plain=stripped, as_sent=text if files else None))
        return body
    if not data and kind not in _NAMES:
        body.defects.append(f"empty {kind} part left out")
        return body
    content_id = _content_id(part)
    inline = disposition == "inline" or (disposition is None and content_id is not None)
    body.attachments.append(Attachment(filename or _name(part, kind), kind, data, content_id, inline))
    return body


def _decode_text(part: Part, data: bytes, hint: str | None) -> tuple[str, bool]:
    declared: str | None = _param(part, "charset")
    if not declared and part.content_type == "text/html":
        declared = charsets.sniff_html(data)
    if not declared:
        # No label: UTF-8 if it is, else the charset the rest of the mail uses.
        text, _ = charsets.decode(data, hint)
        return text, False
    return charsets.decode(data, declared)


def _param(part: Part, name: str, default: str = "") -> str:
    value = part.param(name)
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        value = value[2]
    return str(value) if value else default


def _disposition(part: Part) -> str | None:
    try:
        value = part.headers.get_content_disposition()
    except Exception:
        return None
    return value.lower() if value else None


def _filename(part: Part) -> str:
    try:
        name = part.headers.get_filename() or ""
    except Exception:
        name = ""
    if not name:
        name = _param(part, "name")
    name = charsets.repair(str(name))
    name = _UNSAFE_NAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return name[:200]


def _content_id(part: Part) -> str | None:
    raw = raw_header(part.headers, "content-id")
    if raw is None:
        return None
    value = " ".join(charsets.repair(raw).split()).strip("<>").strip()
    return value[:500] or None


def _name(part: Part, kind: str) -> str:
    if kind in ("message/rfc822", "message/global"):
        subject = _inner_subject(part)
        if subject:
            return _UNSAFE_NAME.sub("_", subject)[:150] + ".eml"
    if kind in _NAMES:
        return _NAMES[kind]
    extension = mimetypes.guess_extension(kind, strict=False) or ".bin"
    return "attachment" + extension


def _inner_subject(part: Part) -> str:
    data, _ = transfer_decode(part)
    inner = parse_headers(split_head(data)[0])
    values = headers.raw_values(inner, "subject")
    return headers.text_value(values[0]).strip(" .") if values else ""


def _escape(text: str) -> str:
    return balie_text.text_to_html(text)


def unflow(text: str, *, delete_space: bool = False) -> str:
    """Undo format=flowed (RFC 3676): a line ending in a space continues on the next one,
    if both have the same quote depth; a leading space is stuffing."""
    output: list[str] = []
    current: str | None = None
    current_depth = 0
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        stripped = raw_line.lstrip(">")
        depth = len(raw_line) - len(stripped)
        if stripped.startswith(" "):
            stripped = stripped[1:]
        line = stripped
        if current is not None and depth != current_depth:
            output.append(">" * current_depth + (" " if current_depth else "") + current)
            current = None
        flowed = line.endswith(" ") and line != "-- "
        if flowed and delete_space:
            line = line[:-1]
        current = line if current is None else current + line
        current_depth = depth
        if not flowed:
            output.append(">" * depth + (" " if depth and current else "") + current)
            current = None
    if current is not None:
        output.append(">" * current_depth + (" " if current_depth else "") + current)
    return "\n".join(output)


def extract_uuencoded(text: str) -> tuple[str, list[Attachment]]:
    """uuencoded files in a plain body ("begin 644 name" … "end") become attachments.
    A block that does not decode cleanly stays in the text."""
    if "begin " not in text:
        return text, []
    lines = text.split("\n")
    kept: list[str] = []
    files: list[Attachment] = []
    index = 0
    while index < len(lines):
        if not _UU_BEGIN.match(lines[index]):
            kept.append(lines[index])
            index += 1
            continue
        end = index + 1
        while end < len(lines) and _UU_LINE.match(lines[end].rstrip("\r")):
            end += 1
        if end >= len(lines) or lines[end].strip() != "end":
            kept.append(lines[index])
            index += 1
            continue
        block = [line.encode("latin-1", "replace") for line in lines[index:end + 1]]
        decoded = decode_uu(block)
        if decoded is None:
            kept.append(lines[index])
            index += 1
            continue
        name, data = decoded
        kind = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        files.append(Attachment(_UNSAFE_NAME.sub("_", name)[:200] or "attachment.bin", kind, data))
        index = end + 1
    return "\n".join(kept), files
