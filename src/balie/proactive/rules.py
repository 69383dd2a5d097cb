"""A shop's invitation rules as its admins keep them: checked, ordered, and counted.

Every value is checked before anything is stored; errors carry a code per field for the
settings page. Counts per rule: invitations shown and accepted. Orders placed within 24 hours
after an accepted invitation need orders, which the commerce issue brings: until then
`orders` is None (the page shows "—").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from balie import clock
from balie.db import get_scoped, scoped
from balie.errors import Invalid
from balie.inputs import check_line, check_text
from balie.proactive.models import ACTIONS, TRIGGERS, Invitation, InvitationRule

MAX_NAME = 200
MAX_MESSAGE = 1000
MAX_RULES = 50
# Per trigger: the lowest and highest threshold (seconds, amount, visits).
THRESHOLDS = {"checkout_idle": (Decimal(5), Decimal(3600)), "cart_value": (Decimal(0), Decimal(1_000_000)),
              "product_views": (Decimal(2), Decimal(100))}


class RuleInvalid(Invalid):
    """The fields that are wrong: field → (code, detail)."""

    def __init__(self, problems: dict[str, tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {detail}" for field, (_, detail) in problems.items()),
                         code="invalid_rule")
        self.problems = problems


@dataclass(frozen=True)
class RuleInput:
    """What the form (or an API) sends, as text."""

    name: str
    trigger: str
    threshold: str
    action: str
    message_nl: str = ""
    message_en: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class Counts:
    shown: int
    accepted: int
    orders: int | None  # None until orders exist


@dataclass(frozen=True)
class Checked:
    name: str
    trigger: str
    threshold: Decimal
    action: str
    message_nl: str
    message_en: str
    enabled: bool


def check(values: RuleInput) -> Checked:
    problems: dict[str, tuple[str, str]] = {}
    name = _line(values.name, "name", MAX_NAME, problems)
    if not name and "name" not in problems:
        problems["name"] = ("name_missing", "a rule needs a name")
    if values.trigger not in TRIGGERS:
        problems["trigger"] = ("invalid_choice", f"trigger must be one of {', '.join(TRIGGERS)}")
    if values.action not in ACTIONS:
        problems["action"] = ("invalid_choice", f"action must be one of {', '.join(ACTIONS)}")
    threshold = _threshold(values.threshold, values.trigger, problems)
    message_nl = _message(values.message_nl, "message_nl", problems)
    message_en = _message(values.message_en, "message_en", problems)
    if problems:
        raise RuleInvalid(problems)
    return Checked(name, values.trigger, threshold, values.action, message_nl, message_en, values.enabled)


def _line(value: str, field: str, limit: int, problems: dict[str, tuple[str, str]]) -> str:
    value = value.strip()
    try:
        check_line(value, field)
    except Invalid:
        problems[field] = ("invalid_text", f"{field} must be one line without control characters")
        return value
    if len(value) > limit:
        problems[field] = ("too_long", f"{field} holds at most {limit} characters")
    return value


def _message(value: str, field: str, problems: dict[str, tuple[str, str]]) -> str:
    value = value.strip()
    try:
        check_text(value, field)
    except Invalid:
        problems[field] = ("invalid_text", f"{field} contains an invalid character")
        return value
    if len(value) > MAX_MESSAGE:
        problems[field] = ("too_long", f"{field} holds at most {MAX_MESSAGE} characters")
    return value


def _threshold(raw: str, trigger: str, problems: dict[str, tuple[str, str]]) -> Decimal:
    low, high = THRESHOLDS.get(trigger, (Decimal(0), Decimal(1_000_000)))
    try:
        value = Decimal(raw.strip().replace(",", ".")) if len(raw) <= 20 else Decimal("NaN")
    except InvalidOperation:
        value = Decimal("NaN")
    whole = trigger in ("checkout_idle", "product_views")
    if not value.is_finite() or not low <= value <= high or (whole and value != value.to_integral_value()) \
            or value != value.quantize(Decimal("0.01")):
        kind = "a whole number" if whole else "an amount"
        problems["threshold"] = ("invalid_threshold", f"threshold must be {kind} from {low} to {high}")
        return Decimal(0)
    return value


def list_rules(session: Session, shop_id: int) -> list[InvitationRule]:
    return list(session.scalars(scoped(InvitationRule, shop_id).order_by(InvitationRule.position, InvitationRule.id)))


def get(session: Session, shop_id: int, rule_id: int) -> InvitationRule:
    return get_scoped(session, InvitationRule, shop_id, rule_id)


def create(session: Session, shop_id: int, values: RuleInput) -> InvitationRule:
    checked = check(values)
    existing = session.scalar(select(func.count()).select_from(InvitationRule)
                              .where(InvitationRule.shop_id == shop_id)) or 0
    if existing >= MAX_RULES:
        raise Invalid(f"a shop has at most {MAX_RULES} invitation rules", code="too_many_rules")
    last = session.scalar(select(func.max(InvitationRule.position)).where(InvitationRule.shop_id == shop_id))
    rule = InvitationRule(shop_id=shop_id, position=(last or 0) + 1, created_at=clock.now(), **_columns(checked))
    session.add(rule)
    session.flush()
    return rule


def update(session: Session, shop_id: int, rule_id: int, values: RuleInput) -> InvitationRule:
    rule = get(session, shop_id, rule_id)
    checked = check(values)
    for name, value in _columns(checked).items():
        setattr(rule, name, value)
    session.flush()
    return rule


def _columns(checked: Checked) -> dict[str, object]:
    return {"name": checked.name, "trigger": checked.trigger, "threshold": checked.threshold,
            "action": checked.action, "message_nl": checked.message_nl, "message_en": checked.message_en,
            "enabled": checked.enabled}


def set_enabled(session: Session, shop_id: int, rule_id: int, enabled: bool) -> None:
    get(session, shop_id, rule_id).enabled = enabled
    session.flush()


def delete(session: Session, shop_id: int, rule_id: int) -> None:
    """The rule and, with it, its invitations and their counts."""
    session.delete(get(session, shop_id, rule_id))
    session.flush()


def move(session: Session, shop_id: int, rule_id: int, step: int) -> None:
    """One place up (step -1) or down (+1); positions are renumbered 1..n on the way."""
    ordered = list_rules(session, shop_id)
    index = next((i for i, rule in enumerate(ordered) if rule.id == rule_id), None)
    if index is None:
        get(session, shop_id, rule_id)  # raises NotFound
        return
    target = index + (1 if step > 0 else -1)
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, rule in enumerate(ordered, start=1):
        rule.position = position
    session.flush()


def counts(session: Session, shop_id: int) -> dict[int, Counts]:
    rows = session.execute(
        select(Invitation.rule_id, func.count(), func.count(Invitation.accepted_at))
        .where(Invitation.shop_id == shop_id).group_by(Invitation.rule_id))
    return {rule_id: Counts(shown=shown, accepted=accepted, orders=None) for rule_id, shown, accepted in rows}


def threshold_text(value: Decimal | float) -> str:
    """The threshold as the form shows it: 60, 150, 149.95."""
    number = Decimal(value)
    return str(number.to_integral_value()) if number == number.to_integral_value() else f"{number:.2f}"

