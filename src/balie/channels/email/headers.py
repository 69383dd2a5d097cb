"""Header values of a mail as clean text: addresses, message ids, dates and subjects.

The stdlib's header registry (`email.policy.default`) does the RFC 2047/5322 work. Around
it: raw 8-bit bytes are decoded with a charset fallback first, charset mislabels in
encoded words are mapped, inputs that make its parser recurse without bound are kept
away from it, and anything it raises falls back to a simple reading.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from email import utils
from email.headerregistry import Address as StdAddress
from email.message import EmailMessage

from balie.channels.email import charsets, mime

MAX_HEADERS = 500
MAX_VALUE = 16 * 1024
# Comments nest, and the stdlib parses them recursively: beyond this many, read the value
# with the simple fallback instead.
MAX_PARENTHESES = 32

_ENCODED_WORD = re.compile(r"=\?([^?*\s]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?]*)\?=")
_ANY_WORD = r"=\?[^?*\s]+(?:\*[^?\s]*)?\?[bBqQ]\?[^?]*\?="
_ENCODED_RUN = re.compile(rf"{_ANY_WORD}(?:[ \t]*{_ANY_WORD})*")
_LOOSE_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_BARE_ID = re.compile(r"[^<>\s\"]+@[^<>\s\"]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRAILING_COMMENT = re.compile(r"^[^()]*@[^()]*\(([^()]{1,200})\)\s*$")


@dataclass(frozen=True)
class Address:
    address: str  # lower-cased; "" when the header held a name only
    name: str = ""


def raw_values(headers: EmailMessage, name: str) -> list[str]:
    """Every value of a header, as in the source (8-bit bytes still surrogate-escaped)."""
    wanted = name.lower()
    return [str(value) for key, value in headers.raw_items() if key.lower() == wanted]


def clean_raw(value: str, hint: str | None) -> str:
    """A raw header value ready for the header registry: 8-bit bytes decoded, folding undone,
    encoded words re-encoded as UTF-8 (see _as_utf8_word)."""
    value = charsets.repair(value, hint)
    value = re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", " ")

    return _ENCODED_RUN.sub(_as_utf8_words, value[:MAX_VALUE])


def _as_utf8_words(run: re.Match[str]) -> str:
    """Encoded words decoded with our charset fallbacks and encoded again as UTF-8, so the
    header registry sees only charsets it reads and bytes that fit them (it would put U+FFFD
    for an unknown charset or a mislabel). Adjacent words in one charset are decoded
    together: encoders split a multi-byte character between two words."""
    words: list[tuple[str, bytes]] = []
    for match in _ENCODED_WORD.finditer(run.group(0)):
        label, encoding, payload = match.group(1).lower(), match.group(2).lower(), match.group(3)
        raw = payload.encode("ascii", "replace")
        data = mime.decode_base64(raw) if encoding == "b" else binascii.a2b_qp(raw, header=True)
        if words and words[-1][0] == label:
            words[-1] = (label, words[-1][1] + data)
        else:
            words.append((label, data))
    encoded = []
    for label, data in words:
        text, _ = charsets.decode(data, label)
        encoded.append("=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?=")
    return " ".join(encoded)


def _registry(name: str, value: str) -> object | None:
    if value.count("(") > MAX_PARENTHESES:
        return None
    try:
        header: object = mime.POLICY.header_factory(name, value)
    except Exception:  # the registry has raised on odd input in several Python versions
        return None
    return header


def text_value(raw: str, name: str = "subject", hint: str | None = None) -> str:
    """An unstructured header (Subject and the like) decoded to one line of text."""
    value = clean_raw(raw, hint)
    header = _registry(name, value)
    decoded = str(header) if header is not None else value
    return " ".join(_CONTROL.sub(" ", charsets.repair(decoded, hint)).split())


def addresses(headers: EmailMessage, name: str, hint: str | None = None) -> tuple[Address, ...]:
    found: list[Address] = []
    for raw in raw_values(headers, name):
        found.extend(parse_addresses(clean_raw(raw, hint), name, hint))
    return tuple(found)


def parse_addresses(value: str, name: str = "to", hint: str | None = None) -> list[Address]:
    header = _registry(name, value)
    found: list[Address] = []
    for address in getattr(header, "addresses", ()):
        if isinstance(address, StdAddress):
            spec = charsets.repair(address.addr_spec or "", hint).strip()
            display = " ".join(_CONTROL.sub(" ", charsets.repair(address.display_name or "", hint)).split())
            if spec in ("<>", '""'):
                spec = ""
            if "@" not in spec:
                spec = ""
            if spec or display:
                found.append(Address(address=spec.lower(), name=display))
    if len(found) == 1 and found[0].address and not found[0].name:
        # "addr@example.nl (Name)": the old style puts the name in a comment.
        comment = _TRAILING_COMMENT.search(value)
        if comment:
            found[0] = Address(found[0].address, " ".join(comment.group(1).split()))
    if any(item.address for item in found):
        return found
    # The registry found no usable address: take anything that looks like one.
    loose = [Address(address=match.lower().strip(".")) for match in _LOOSE_ADDRESS.findall(value)]
    return loose or found


def first_sender(headers: EmailMessage, hint: str | None = None) -> tuple[Address | None, str]:
    """The first usable From address (duplicate or broken From headers are common in spam),
    else Sender, else Reply-To; with the header it came from."""
    first: Address | None = None
    for name in ("from", "sender", "reply-to"):
        candidates = addresses(headers, name, hint)
        for candidate in candidates:
            if candidate.address:
                return candidate, name
        first = first or (candidates[0] if candidates else None)
    return first, "from"


def message_id(raw: str | None) -> str | None:
    """`<id@host>`, or None when the value holds nothing that can be one."""
    if not raw:
        return None
    value = clean_raw(raw, None)
    match = _MESSAGE_ID.search(value)
    if match:
        return f"<{match.group(1)}>"
    bare = _BARE_ID.search(value)
    return f"<{bare.group(0)}>" if bare else None


def message_ids(raw: str | None) -> tuple[str, ...]:
    """Every id in References (or a sloppy In-Reply-To), in order, without repeats."""
    if not raw:
        return ()
    value = clean_raw(raw, None)
    found = [f"<{match}>" for match in _MESSAGE_ID.findall(value)]
    if not found:
        found = [f"<{match}>" for match in _BARE_ID.findall(value)]
    return tuple(dict.fromkeys(found))


def synthetic_message_id(raw: bytes) -> str:
    """Stable for the same mail: line endings and an mbox From line do not change it."""
    canonical = raw.replace(b"\r\n", b"\n").strip()
    if canonical.startswith(b"From "):
        canonical = canonical.partition(b"\n")[2]
    digest = hashlib.sha256(canonical).hexdigest()[:40]
    return f"<{digest}@synthetic.balie.invalid>"


def date(raw: str | None) -> dt.datetime | None:
    """An aware datetime; "-0000" (UTC, sender's zone unknown) and zone-less dates count as UTC."""
    if not raw:
        return None
    value = " ".join(clean_raw(raw, None).split())
    try:
        parsed = utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None
    return parsed
