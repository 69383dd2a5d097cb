"""Tags on conversations and on customers: one spelling and one set of checks, so that a tag
typed in the inbox, set by a rule or sent through the API is the same tag everywhere, and a
rule's `tags` or `customer_tags` condition finds it however the admin typed it."""

from __future__ import annotations

from collections.abc import Iterable

from balie.errors import Invalid
from balie.inputs import check_line

MAX_LENGTH = 64  # the tag columns are String(64)


def spelling(value: str) -> str:
    """How a tag is stored: lower case, each run of white space one hyphen ("Big  Spender" →
    "big-spender"); "" when blank. Control characters are refused (`invalid_text`)."""
    return "-".join(check_line(value, "tag").lower().split())


def normalise(value: str) -> str:
    """One tag as stored, or Invalid (`invalid_tag`) when it is blank or too long."""
    tag = spelling(value)
    if not tag:
        raise Invalid("a tag cannot be empty", code="invalid_tag")
    if len(tag) > MAX_LENGTH:
        raise Invalid(f"a tag is at most {MAX_LENGTH} characters", code="invalid_tag")
    return tag


def normalise_all(values: Iterable[str], *, limit: int, holder: str) -> list[str]:
    """A set of tags as typed (blanks skipped, each tag once, in the order given), at most
    `limit` of them on `holder` ("a conversation")."""
    clean: list[str] = []
    for value in values:
        if not spelling(value):
            continue
        tag = normalise(value)
        if tag not in clean:
            clean.append(tag)
    if len(clean) > limit:
        raise Invalid(f"at most {limit} tags on {holder}", code="invalid_tag")
    return clean
