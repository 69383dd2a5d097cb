"""Order numbers a customer mentions in a message: "bestelling 10023", "ordernummer: #10023",
"order no. 10023", or a bare "#10023". Only numbers the shop has count (one query), so a phone
number, a postcode, a price or a date never becomes an order by accident.

A number needs a word that says it is an order ("bestelling", "bestelnummer", "order", ...)
or a `#` right before it; a bare number ("10023") is too often something else."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie.commerce.models import Order

MAX_SCANNED = 20_000  # characters of a message: quoted history and signatures come later
MAX_NUMBERS = 20  # per lookup; nobody asks about more orders than this in one conversation

# The word that says "order" ("bestelnummer", "order no."), maybe "met nummer"/"number" and
# "is", then a colon, a bracket or a "#".
_KEYWORD = (r"(?:bestel(?:lings?)?[- ]?(?:nummer|nr\.?)|bestelling|orderno\.?"
            r"|order[- ]?(?:nummer|number|nr\.?|no\.?|num\.?|id|ref(?:erence)?)|order)(?![a-z])")
_QUALIFIER = r"(?:\s*(?:met\s+(?:het\s+)?nummer|with\s+(?:the\s+)?number|nummer|number|nr\.?|no\.?)(?![a-z]))?"
_VERB = r"(?:\s+(?:is|was|luidt))?"
# An order number: letters, digits and dashes with at least one digit ("10023", "NL-10023").
_NUMBER = r"(?P<number>[A-Za-z0-9][A-Za-z0-9-]{0,62})"
_AFTER_KEYWORD = re.compile(
    rf"(?<![\w-]){_KEYWORD}{_QUALIFIER}{_VERB}\s*[:(]?\s*(?:#\s?)?{_NUMBER}", re.IGNORECASE)
# "#10023": digits only, not an HTML entity ("&#10023;") or a colour ("#ff0000").
_HASHED = re.compile(r"(?<![\w&#])#(?P<number>\d{3,20})(?![\w-])")


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    number: str


def _clean(number: str) -> str | None:
    number = number.rstrip("-")
    if len(number) < 3 or not any(character.isdigit() for character in number):
        return None
    return number


def find(text: str) -> list[Mention]:
    """Every place that names an order number, as candidates (the shop may not have them)."""
    text = text[:MAX_SCANNED]
    found: dict[int, Mention] = {}
    for pattern in (_AFTER_KEYWORD, _HASHED):
        for match in pattern.finditer(text):
            number = _clean(match.group("number"))
            if number is None:
                continue
            start = match.start("number")
            if text[start - 1:start] == "#":  # the link takes the "#" along
                start -= 1
            if start in found or any(m.start <= start < m.end for m in found.values()):
                continue
            found[start] = Mention(start, match.start("number") + len(number), number)
    return sorted(found.values(), key=lambda mention: mention.start)


def candidates(texts: Iterable[str]) -> list[str]:
    """The numbers named in these texts, first mention first, each once."""
    seen: dict[str, None] = {}
    for text in texts:
        for mention in find(text):
            seen.setdefault(mention.number, None)
    return list(seen)[:MAX_NUMBERS]


def existing(session: Session, shop_id: int, numbers: list[str]) -> list[str]:
    """Which of these numbers the shop has, in the order given: one query, none without numbers."""
    if not numbers:
        return []
    known = set(session.scalars(select(Order.number).where(Order.shop_id == shop_id,
                                                           Order.number.in_(numbers[:MAX_NUMBERS]))))
    return [number for number in numbers if number in known]


def recognise(session: Session, shop_id: int, texts: Iterable[str]) -> list[str]:
    """The shop's order numbers these texts mention, first mention first."""
    return existing(session, shop_id, candidates(texts))
