"""Checks on values that come from outside, shared by the API, the UI and the channels:
what the database would refuse (ids beyond 64 bits, NUL, lone surrogates) becomes a clear
400 here instead of a crash there."""

from __future__ import annotations

from balie.errors import Invalid, TooLarge

MAX_ID = 2**63 - 1  # ids are BIGINT on PostgreSQL and INTEGER (64-bit) on SQLite
MAX_TEXT_BYTES = 1024 * 1024


def valid_id(value: int) -> bool:
    return 1 <= value <= MAX_ID


def parse_id(raw: str) -> int | None:
    """An id typed by a person or taken from a URL; None if it cannot be one.
    (str.isdigit() also accepts '²', which int() refuses.)"""
    raw = raw.strip().lstrip("#")
    if not raw or not raw.isascii() or not raw.isdecimal() or len(raw) > 19:
        return None
    value = int(raw)
    return value if valid_id(value) else None


def _unencodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
        return True
    return False


def check_text(value: str, what: str = "text", max_bytes: int = MAX_TEXT_BYTES) -> None:
    """A message body: any size up to the limit, any characters a database can store."""
    if len(value) > max_bytes or len(value.encode("utf-8", "surrogatepass")) > max_bytes:
        raise TooLarge(f"{what} is larger than {max_bytes // 1024} KiB", code="text_too_large")
    if "\x00" in value:
        raise Invalid(f"{what} contains a NUL character", code="invalid_text")
    if _unencodable(value):
        raise Invalid(f"{what} contains an invalid character (a lone UTF-16 surrogate)", code="invalid_text")


def check_line(value: str, what: str) -> str:
    """A one-line value (subject, name, identity, tag, search): no control characters."""
    if _unencodable(value) or any(ord(c) < 32 and c != "\t" for c in value) or "\x7f" in value:
        raise Invalid(f"{what} contains a control or invalid character", code="invalid_text")
    return value
