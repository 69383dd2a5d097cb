"""When does an automation rule apply? Triggers, conditions and the facts they are checked
against. Pure: the engine gathers the facts after a commit and asks `matches()`.

A rule is checked as the shop admin wrote it and nothing is guessed: an unknown trigger,
field or operator is refused when the rule is saved, with the field named. A pattern a
customer's text could make run for ever (nested repetition) is stopped after a few
milliseconds and counts as "no match", so one rule cannot hold up the rest.

Loops: every event the engine's own actions cause carries the rules that led to it (its
chain). A rule never fires again within its own chain, and a chain stops at MAX_CHAIN rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import regex  # the `regex` package: `re` with a time-out, for patterns shop admins type

from balie import tagging
from balie.errors import Invalid

TRIGGERS = ("message_received", "conversation_created", "conversation_updated", "sla_near_breach",
            "sla_breached", "pending_for", "callback_overdue", "promise_broken")
FIELDS = {
    # field → the operators it takes
    "channel": ("in", "not_in"), "priority": ("in", "not_in"), "status": ("in", "not_in"),
    "language": ("in", "not_in"), "tags": ("any", "none"), "customer_tags": ("any", "none"),
    "text": ("contains", "matches"), "open_now": ("is",), "minutes_since_reply": ("at_least", "at_most"),
    "compliment": ("is",),
}
MAX_CONDITIONS = 20
MAX_VALUES = 50
MAX_PATTERN = 200
MAX_TEXT = 20_000  # of a message, what the text conditions look at
PATTERN_SECONDS = 0.02
MAX_CHAIN = 5


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any  # a tuple of strings, a string, a bool or an int, by field and operator


@dataclass(frozen=True)
class Facts:
    """What a rule is checked against: the conversation and the message of the event."""

    channel: str
    priority: str
    status: str
    language: str = ""
    tags: frozenset[str] = frozenset()
    customer_tags: frozenset[str] = frozenset()
    text: str = ""
    open_now: bool = True
    minutes_since_reply: float | None = None  # None: no reply yet
    compliment: bool = False
    chain: tuple[int, ...] = field(default=())  # rules whose actions caused this event


def parse_conditions(raw: object) -> tuple[Condition, ...]:
    """Conditions from JSON (`[{"field", "op", "value"}]`), or Invalid naming the first problem."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONS:
        raise Invalid(f"conditions are a list of at most {MAX_CONDITIONS}", code="invalid_conditions")
    return tuple(_condition(number, item) for number, item in enumerate(raw, start=1))


def _condition(number: int, item: object) -> Condition:
    where = f"condition {number}"
    if not isinstance(item, dict) or set(item) - {"field", "op", "value"}:
        raise Invalid(f"{where}: write {{\"field\", \"op\", \"value\"}}", code="invalid_conditions")
    name, op, value = item.get("field"), item.get("op"), item.get("value")
    if name not in FIELDS:
        raise Invalid(f"{where}: unknown field {str(name)[:40]!r} (one of {', '.join(FIELDS)})",
                      code="invalid_conditions")
    if op not in FIELDS[name]:
        raise Invalid(f"{where}: {name} takes {' or '.join(FIELDS[name])}, not {str(op)[:20]!r}",
                      code="invalid_conditions")
    if op in ("in", "not_in", "any", "none"):
        if (not isinstance(value, list) or not value or len(value) > MAX_VALUES
                or not all(isinstance(v, str) and 0 < len(v) <= 100 for v in value)):
            raise Invalid(f"{where}: {name} {op} needs a list of 1 to {MAX_VALUES} short texts",
                          code="invalid_conditions")
        if name in ("tags", "customer_tags"):
            return Condition(name, op, tuple(_tag(where, v) for v in value))
        return Condition(name, op, tuple(v.strip().casefold() for v in value))
    if op == "contains":
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_PATTERN:
            raise Invalid(f"{where}: text contains needs 1 to {MAX_PATTERN} characters", code="invalid_conditions")
        return Condition(name, op, value.strip().casefold())
    if op == "matches":
        if not isinstance(value, str) or not value or len(value) > MAX_PATTERN:
            raise Invalid(f"{where}: a pattern is 1 to {MAX_PATTERN} characters", code="invalid_conditions")
        try:
            regex.compile(value, regex.IGNORECASE)
        except regex.error as error:
            raise Invalid(f"{where}: the pattern cannot be read ({error})", code="invalid_conditions") from error
        return Condition(name, op, value)
    if op == "is":
        if not isinstance(value, bool):
            raise Invalid(f"{where}: {name} is true or false", code="invalid_conditions")
        return Condition(name, op, value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366 * 24 * 60:
        raise Invalid(f"{where}: {name} is a number of minutes", code="invalid_conditions")
    return Condition(name, op, value)


def _tag(where: str, value: str) -> str:
    """A tag as it is stored (balie/tagging.py): a condition on "VIP klant" finds the tag vip-klant."""
    try:
        return tagging.spelling(value).casefold()
    except Invalid as error:
        raise Invalid(f"{where}: {error.detail}", code="invalid_conditions") from None


def check_trigger(trigger: object) -> str:
    if trigger not in TRIGGERS:
        raise Invalid(f"unknown trigger {str(trigger)[:40]!r} (one of {', '.join(TRIGGERS)})", code="invalid_trigger")
    return str(trigger)


def may_fire(rule_id: int, facts: Facts) -> bool:
    """False when this rule is already in the event's chain (it would trigger itself) or the
    chain is as long as it may get: the loop stops here, and the engine logs why."""
    return rule_id not in facts.chain and len(facts.chain) < MAX_CHAIN


def matches(conditions: Sequence[Condition], facts: Facts) -> tuple[bool, str]:
    """Whether every condition holds, and why not (the first that failed) for the rule's log."""
    for condition in conditions:
        if not _holds(condition, facts):
            return False, f"{condition.field} {condition.op} {_shown(condition.value)}: no"
    return True, "all conditions hold" if conditions else "no conditions"


def _holds(condition: Condition, facts: Facts) -> bool:
    name, op, value = condition.field, condition.op, condition.value
    if name in ("channel", "priority", "status", "language"):
        present = str(getattr(facts, name)).casefold() in value
        return present if op == "in" else not present
    if name in ("tags", "customer_tags"):
        have = {tag.casefold() for tag in getattr(facts, name)}
        shared = bool(have.intersection(value))
        return shared if op == "any" else not shared
    if name == "text":
        text = facts.text[:MAX_TEXT]
        if op == "contains":
            return value in text.casefold()
        try:
            return regex.search(value, text, regex.IGNORECASE, timeout=PATTERN_SECONDS) is not None
        except TimeoutError:
            return False
    if name in ("open_now", "compliment"):
        return bool(getattr(facts, name)) is value
    minutes = facts.minutes_since_reply
    if minutes is None:
        return False
    return bool(minutes >= value) if op == "at_least" else bool(minutes <= value)


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)

