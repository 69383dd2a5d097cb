"""The MIME tree of a raw mail, split without recursion and with limits.

The stdlib parser recurses once per nested multipart and fails with RecursionError
near 1,000 levels (slowly), so a hostile mail could cost seconds or crash the
receiver. Here the tree is split with an explicit work list, down to MAX_DEPTH levels
and MAX_PARTS parts; the stdlib (`email.policy.default`) parses each part's header
block only, and bodies are decoded here from bytes.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cached_property
from typing import Any

MAX_DEPTH = 20
MAX_PARTS = 500
MAX_HEADER_BYTES = 256 * 1024

# What the stdlib's feedparser accepts as a header line (a field name and a colon, or a
# continuation); the first line that is neither ends the header block.
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]*:|[ \t]")
_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


class _Registry(HeaderRegistry):
    """The stdlib's header registry builds a new class (type()) for every header it parses,
    which was a third of the time a small mail took to parse. The class depends only on the
    header's name, so one per name is kept (a bounded number: a hostile mail can invent
    thousands of names)."""

    MAX_NAMES = 512

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            if len(self._classes) >= self.MAX_NAMES:
                self._classes.clear()
            cls = self._classes[key] = super().__getitem__(name)
        return cls


# `email.policy.default` with the registry above; used for every header Balie reads.
POLICY = policy.default.clone(header_factory=_Registry())
_PARSER = BytesParser(policy=POLICY)


@dataclass
class Part:
    """One node of the tree: its parsed header block and its raw (still encoded) body."""

    headers: EmailMessage
    body: bytes
    depth: int
    content_type: str = "text/plain"
    children: list[Part] = field(default_factory=list)

    def param(self, name: str) -> str | tuple[str, str, str] | None:
        """A Content-Type parameter as `EmailMessage.get_param` gives it (a tuple for RFC 2231)."""
        return self._content_params.get(name.lower())

    @cached_property
    def _content_params(self) -> dict[str, Any]:
        # Parsed once: the stdlib parses the header again for every parameter asked for.
        try:
            pairs = self.headers.get_params(header="content-type") or []
        except Exception:  # a header the stdlib cannot parse has no usable parameters
            return {}
        found: dict[str, Any] = {}
        for key, value in pairs:
            found.setdefault(key.lower(), value)
        return found


@dataclass
class Tree:
    root: Part
    defects: list[str]
    truncated: str | None = None  # why parts were left unread (limits), if any


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """(header block, body): the headers end at the first empty line, or at the first line
    that cannot be a header (then that line belongs to the body, as in the stdlib)."""
    position = 0
    size = len(data)
    while position < size:
        newline = data.find(b"\n", position)
        end = size if newline == -1 else newline + 1
        line = data[position:end]
        if not line.rstrip(b"\r\n"):
            return data[:position], data[end:]
        if not _HEADER_LINE.match(line):
            return data[:position], data[position:]
        position = end
    return data, b""


def parse_headers(head: bytes) -> EmailMessage:
    message = _PARSER.parsebytes(head[:MAX_HEADER_BYTES] + b"\n", headersonly=True)
    assert isinstance(message, EmailMessage)
    return message


def raw_header(headers: EmailMessage, name: str) -> str | None:
    """A header's first value as written (the registry is not asked: nothing to parse)."""
    wanted = name.lower()
    return next((str(value) for key, value in headers.raw_items() if key.lower() == wanted), None)


def content_type_of(headers: EmailMessage, default: str = "text/plain") -> str:
    if raw_header(headers, "content-type") is None:
        return default
    try:
        value = headers.get_content_type()
    except Exception:  # a header the stdlib cannot parse is a plain part, as RFC 2045 says
        return "text/plain"
    return value if "/" in value and value.isascii() else "text/plain"


def boundary_of(headers: EmailMessage) -> str | None:
    try:
        boundary = headers.get_boundary()
    except Exception:
        return None
    return boundary.strip() or None if boundary else None


def split_multipart(body: bytes, boundary: str) -> tuple[list[bytes], bool]:
    """The parts between boundary lines, and whether the closing boundary was found.
    The line break before a boundary line belongs to the boundary (RFC 2046)."""
    marker = re.escape(boundary.encode("utf-8", "surrogateescape"))
    pattern = re.compile(rb"^--" + marker + rb"(--)?[ \t]*\r?$", re.M)
    parts: list[bytes] = []
    start: int | None = None
    for match in pattern.finditer(body):
        if start is not None:
            end = match.start()
            if body[end - 2:end] == b"\r\n":
                end -= 2
            elif body[end - 1:end] == b"\n":
                end -= 1
            parts.append(body[start:max(start, end)])
        if match.group(1):
            return parts, True
        newline = body.find(b"\n", match.end())
        start = len(body) if newline == -1 else newline + 1
    if start is not None:
        parts.append(body[start:])
    return parts, False


def split(raw: bytes) -> Tree:
    """The whole tree; never raises on malformed structure, records what it skipped."""
    defects: list[str] = []
    head, body = split_head(raw)
    root = _make_part(head, body, 0, "text/plain")
    tree = Tree(root=root, defects=defects)
    count = 1
    pending = [root]
    while pending:
        part = pending.pop()
        if not part.content_type.startswith("multipart/"):
            continue
        boundary = boundary_of(part.headers)
        if boundary is None:
            defects.append(f"{part.content_type} without a boundary, read as text")
            part.content_type = "text/plain"
            continue
        if part.depth >= MAX_DEPTH:
            tree.truncated = f"multipart nested deeper than {MAX_DEPTH} levels"
            part.body = b""
            continue
        chunks, closed = split_multipart(part.body, boundary)
        if not chunks:
            if part.body.strip():
                defects.append(f"{part.content_type} without parts, read as text")
                part.content_type = "text/plain"
            else:
                defects.append(f"{part.content_type} without parts")
            continue
        if not closed:
            defects.append(f"{part.content_type} without a closing boundary")
        child_default = "message/rfc822" if part.content_type == "multipart/digest" else "text/plain"
        for chunk in chunks:
            if count >= MAX_PARTS:
                tree.truncated = f"more than {MAX_PARTS} MIME parts"
                break
            count += 1
            child_head, child_body = split_head(chunk)
            part.children.append(_make_part(child_head, child_body, part.depth + 1, child_default))
        part.body = b""
        # Reversed, so the work list (a stack) takes the parts in document order.
        pending.extend(reversed(part.children))
    return tree


def _make_part(head: bytes, body: bytes, depth: int, default_type: str) -> Part:
    headers = parse_headers(head)
    return Part(headers=headers, body=body, depth=depth, content_type=content_type_of(headers, default_type))


def transfer_decode(part: Part) -> tuple[bytes, str | None]:
    """The part's body with its Content-Transfer-Encoding undone; a note when that failed."""
    encoding = (raw_header(part.headers, "content-transfer-encoding") or "").strip().lower()
    data = part.body
    if encoding == "base64":
        return decode_base64(data), None
    if encoding == "quoted-printable":
        try:
            return binascii.a2b_qp(data), None
        except (binascii.Error, ValueError):
            return data, "broken quoted-printable"
    if encoding in ("x-uuencode", "uuencode", "x-uue", "uue"):
        decoded = decode_uu(data.splitlines(), need_begin=False)
        return (decoded[1], None) if decoded is not None else (data, "broken uuencode")
    if encoding and encoding not in ("7bit", "8bit", "binary", "7-bit", "8-bit"):
        return data, f"unknown transfer encoding {encoding[:40]!r}"
    return data, None


def decode_base64(data: bytes) -> bytes:
    """Lenient: junk characters are dropped, missing padding is added, and blocks that
    were padded and then concatenated (some encoders do that per line) are all kept."""
    output = bytearray()
    for segment in data.split(b"="):
        cleaned = _BASE64_JUNK.sub(b"", segment)
        remainder = len(cleaned) % 4
        if remainder == 1:
            cleaned = cleaned[:-1]
        elif remainder:
            cleaned += b"=" * (4 - remainder)
        try:
            output += binascii.a2b_base64(cleaned)
        except (binascii.Error, ValueError):
            continue
    return bytes(output)


_UU_BEGIN = re.compile(rb"^begin +[0-7]{3,4} +(.+?)\s*$")


def decode_uu(lines: list[bytes], *, need_begin: bool = True) -> tuple[str, bytes] | None:
    """(file name, data) of a uuencoded block; tolerant of the usual encoder bugs. As a
    transfer encoding the "begin" line is sometimes left out (then the name is "")."""
    name = None
    start = 0
    for index, line in enumerate(lines):
        match = _UU_BEGIN.match(line)
        if match:
            name = match.group(1).decode("utf-8", "replace")
            start = index + 1
            break
    if name is None:
        if need_begin:
            return None
        name = ""
    output = bytearray()
    for line in lines[start:]:
        stripped = line.rstrip(b"\r\n")
        if stripped.strip() == b"end":
            break
        if not stripped.strip():
            continue
        try:
            output += binascii.a2b_uu(stripped)
        except binascii.Error:
            # Some encoders pad lines wrongly; decode exactly the bytes the length asks for.
            length = (((stripped[0] - 32) & 63) * 4 + 5) // 3
            try:
                output += binascii.a2b_uu(stripped[:length])
            except binascii.Error:
                return None
    return name, bytes(output)
