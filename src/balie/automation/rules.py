"""A shop's automation rules: saving them checked (trigger, conditions, actions), their order,
and switching them on and off. What a rule does lives in actions.py, when it applies in
conditions.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from balie import clock
from balie.automation import actions, conditions
from balie.automation.models import Rule, RuleRun
from balie.db import get_scoped, scoped
from balie.errors import Invalid, NotFound
from balie.inputs import check_line, valid_id

MAX_RULES = 100
MAX_NAME = 200
MAX_HOURS = 24 * 90


@dataclass
class RuleInput:
    name: Any
    trigger: Any
    conditions: Any = None
    actions: Any = None
    hours: Any = None
    enabled: Any = True


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("name: give the rule a name", code="invalid_name")
    if len(value) > MAX_NAME:
        raise Invalid(f"name: at most {MAX_NAME} characters", code="invalid_name")
    return check_line(value.strip(), "name")


def _hours(trigger: str, value: object) -> int | None:
    if trigger != "pending_for":
        if value is not None:
            raise Invalid("hours: only the pending_for trigger takes hours", code="invalid_hours")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_HOURS:
        raise Invalid(f"hours: pending_for needs a number of hours, 1 to {MAX_HOURS}", code="invalid_hours")
    return value


def _enabled(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid("enabled: true or false", code="invalid_enabled")
    return value


def checked(session: Session, shop_id: int, data: RuleInput) -> dict[str, Any]:
    """The rule's columns from what was sent, or Invalid naming the field (and the condition or
    action) that is wrong. Nothing is guessed or dropped."""
    try:
        trigger = conditions.check_trigger(data.trigger)
    except Invalid as error:
        raise Invalid(f"trigger: {error.detail}", code=error.code) from None
    parsed = conditions.parse_conditions(data.conditions)  # raises with the condition named
    del parsed  # stored as sent (checked): the engine parses again when it runs
    return {
        "name": _name(data.name), "trigger": trigger, "hours": _hours(trigger, data.hours),
        "conditions": list(data.conditions or []),
        "actions": actions.parse_actions(session, shop_id, data.actions), "enabled": _enabled(data.enabled),
    }


def list_rules(session: Session, shop_id: int) -> list[Rule]:
    return list(session.scalars(scoped(Rule, shop_id).order_by(Rule.position, Rule.id)))


def get(session: Session, shop_id: int, rule_id: int) -> Rule:
    if not valid_id(rule_id):
        raise NotFound(f"rule {rule_id} not found")
    try:
        return get_scoped(session, Rule, shop_id, rule_id)
    except NotFound:
        raise NotFound(f"rule {rule_id} not found") from None


def create(session: Session, shop_id: int, data: RuleInput) -> Rule:
    values = checked(session, shop_id, data)
    count = session.scalar(select(func.count()).select_from(Rule).where(Rule.shop_id == shop_id)) or 0
    if count >= MAX_RULES:
        raise Invalid(f"a shop has at most {MAX_RULES} rules", code="too_many_rules")
    last = session.scalar(select(func.max(Rule.position)).where(Rule.shop_id == shop_id))
    now = clock.now()
    rule = Rule(shop_id=shop_id, position=(last or 0) + 1, created_at=now, updated_at=now, **values)
    session.add(rule)
    session.flush()
    return rule


def update(session: Session, shop_id: int, rule_id: int, changes: dict[str, Any]) -> Rule:
    """`changes` holds only the fields sent; the whole rule is checked again as it will be."""
    rule = get(session, shop_id, rule_id)
    current = RuleInput(name=rule.name, trigger=rule.trigger, conditions=rule.conditions, actions=rule.actions,
                        hours=rule.hours, enabled=rule.enabled)
    for key, value in changes.items():
        setattr(current, key, value)
    if "trigger" in changes and changes["trigger"] != "pending_for" and "hours" not in changes:
        current.hours = None  # the old trigger's parameter goes with it
    values = checked(session, shop_id, current)
    for key, value in values.items():
        setattr(rule, key, value)
    rule.updated_at = clock.now()
    session.flush()
    return rule


def set_enabled(session: Session, shop_id: int, rule_id: int, enabled: bool) -> Rule:
    rule = get(session, shop_id, rule_id)
    rule.enabled, rule.updated_at = enabled, clock.now()
    session.flush()
    return rule


def reorder(session: Session, shop_id: int, rule_ids: list[int]) -> list[Rule]:
    """The shop's rules in exactly this order: every rule once, no other."""
    rules = list_rules(session, shop_id)
    if sorted(rule_ids) != sorted(rule.id for rule in rules) or len(set(rule_ids)) != len(rule_ids):
        raise Invalid("rule_ids: list each of the shop's rules exactly once", code="invalid_order")
    by_id = {rule.id: rule for rule in rules}
    for position, rule_id in enumerate(rule_ids, start=1):
        by_id[rule_id].position = position
    session.flush()
    return [by_id[rule_id] for rule_id in rule_ids]


def move(session: Session, shop_id: int, rule_id: int, step: int) -> None:
    """One place up (-1) or down (+1); at the end it stays."""
    ids = [rule.id for rule in list_rules(session, shop_id)]
    index = ids.index(get(session, shop_id, rule_id).id)
    other = index + step
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
        reorder(session, shop_id, ids)


def delete(session: Session, shop_id: int, rule_id: int) -> None:
    """The rule goes; its runs stay on the conversations, under its name."""
    session.delete(get(session, shop_id, rule_id))
    session.flush()


def runs_of(session: Session, shop_id: int, conversation_id: int, limit: int = 200) -> list[RuleRun]:
    query = scoped(RuleRun, shop_id).where(RuleRun.conversation_id == conversation_id)
    return list(session.scalars(query.order_by(RuleRun.id.desc()).limit(limit)))[::-1]
