"""The automation rules settings page (shop admins only): the rules in the order they run, and a
form for a rule's trigger, conditions and actions as rows of field / operator / value and
action / value, so that nobody writes JSON. Agents, teams and canned replies are named as
people know them (an e-mail address, a team's name, a reply's shortcut) and stored by id.

As on the other settings pages: plain forms with the CSRF token, the wrong field explained
beside it, and nothing stored from a form with a wrong field.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from balie.agents import service as agent_service
from balie.agents.models import Team
from balie.automation import actions as automation_actions
from balie.automation import conditions, rules
from balie.automation.models import Rule
from balie.canned import service as canned_service
from balie.db import scoped
from balie.errors import Invalid
from balie.inputs import parse_id
from balie.ui import pages, rule_lists
from balie.ui.auth import Agent, CheckedAgent, Signed, require_admin
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute
from balie.ui.settings_widget import Posted
from balie.web.deps import DB

router = APIRouter(route_class=UiRoute, include_in_schema=False)
BASE = "/settings/rules"
ROWS = 5  # condition rows and action rows the form offers (empty ones are left out)

NOTICES = {"added": N_("Rule added."), "saved": N_("Changes saved."), "removed": N_("Rule deleted.")}
TRIGGER_LABELS = {
    "message_received": N_("A customer's message is received"),
    "conversation_created": N_("A conversation is started"),
    "conversation_updated": N_("A conversation is changed"),
    "sla_near_breach": N_("A reply is almost late (SLA)"),
    "sla_breached": N_("A reply is late (SLA)"),
    "pending_for": N_("A conversation is pending for some hours"),
    "callback_overdue": N_("A call-back is overdue"),
    "promise_broken": N_("A delivery promise is broken"),
}
FIELD_LABELS = {
    "channel": N_("Channel"), "priority": N_("Priority"), "status": N_("Status"), "language": N_("Language"),
    "tags": N_("Tags"), "customer_tags": N_("Customer tags"), "text": N_("Message text"),
    "open_now": N_("Open now"), "minutes_since_reply": N_("Minutes since our last reply"),
    "compliment": N_("Compliment"),
}
OPERATOR_LABELS = {
    "in": N_("is one of"), "not_in": N_("is none of"), "any": N_("has any of"), "none": N_("has none of"),
    "contains": N_("contains"), "matches": N_("matches the pattern"), "is": N_("is"),
    "at_least": N_("at least"), "at_most": N_("at most"),
}
ACTION_LABELS = {
    "assign_agent": N_("Assign to agent (e-mail address)"), "assign_team": N_("Give to team (name)"),
    "round_robin": N_("Assign to an online agent in turn (capacity per agent)"), "add_tag": N_("Add tag"),
    "remove_tag": N_("Remove tag"), "set_priority": N_("Set priority"), "set_status": N_("Set status"),
    "send_canned": N_("Send canned reply (shortcut)"), "add_note": N_("Add note"),
    "notify": N_("Notify agents"), "webhook": N_("Call webhook (https URL)"),
    "follow_up": N_("Schedule a follow-up (hours ahead)"),
    "block_customer": N_("Block or mute the customer (blocked or muted)"),
}
MESSAGES = {
    "invalid_name": N_("Give the rule a name of at most 200 characters."),
    "invalid_text": N_("Remove the control characters."),
    "invalid_trigger": N_("Choose one of the options."),
    "invalid_hours": N_("Enter a whole number of hours (1 to 2160) for this trigger, and none for the others."),
    "invalid_conditions": N_("Check this condition:"),
    "invalid_actions": N_("Check this action:"),
    "unknown_name": N_("Nobody or nothing in this shop goes by this name."),
    "not_a_number": N_("Enter a whole number."),
    "too_many_rules": N_("A shop has at most 100 rules."),
}
WHERE = re.compile(r"^(condition|action) (\d+)")



class FormProblem(Exception):
    def __init__(self, field: str, code: str, detail: str = "") -> None:
        super().__init__(detail)
        self.field, self.code, self.detail = field, code, detail


# --- form ↔ rule --------------------------------------------------------------------------

def _names(db: Session, shop_id: int) -> dict[str, dict[str, int]]:
    """How people name what actions point at, to the ids stored."""
    return {
        "assign_agent": {agent.email: agent.id for agent in agent_service.members(db, shop_id)},
        "assign_team": {team.name: team.id for team in db.scalars(scoped(Team, shop_id))},
        "send_canned": {reply.shortcut: reply.id for reply in canned_service.list_for(db, shop_id)},
    }


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _named(by_id: dict[str, dict[int, str]], item: dict[str, Any]) -> str:
    """An action's value as the form shows it: an agent's address, a team's or reply's name."""
    value = item.get("value")
    names = by_id.get(item["action"])
    if names is not None and isinstance(value, int) and value in names:
        return names[value]
    return _value_text(value)


def _rule_form(db: Session, shop_id: int, rule: Rule | None) -> dict[str, Any]:
    blank_condition = {"field": "", "op": "", "value": ""}
    blank_action = {"action": "", "value": "", "note": ""}
    if rule is None:
        return {"name": "", "trigger": "message_received", "hours": "", "enabled": True,
                "conditions": [blank_condition] * ROWS, "actions": [blank_action] * ROWS}
    by_id = {action: {ref: name for name, ref in names.items()} for action, names in _names(db, shop_id).items()}
    listed_conditions = [{"field": item.get("field", ""), "op": item.get("op", ""),
                          "value": _value_text(item.get("value"))} for item in rule.conditions]
    listed_actions = [{"action": item["action"], "note": item.get("note", ""), "value": _named(by_id, item)}
                      for item in rule.actions]
    return {"name": rule.name, "trigger": rule.trigger, "hours": _value_text(rule.hours), "enabled": rule.enabled,
            "conditions": listed_conditions + [blank_condition] * max(0, ROWS - len(listed_conditions)),
            "actions": listed_actions + [blank_action] * max(0, ROWS - len(listed_actions))}


def _number(text: str, field: str) -> int:
    text = text.strip()
    number = parse_id(text) if text.isdecimal() else None
    if number is None:
        raise FormProblem(field, "not_a_number")
    return number


def _condition_value(op: str, text: str, field: str) -> Any:
    if op in ("in", "not_in", "any", "none"):
        return [part.strip() for part in text.split(",") if part.strip()]
    if op == "is":
        return text.strip().casefold() in ("true", "yes", "ja", "1", "waar")
    if op in ("at_least", "at_most"):
        return _number(text, field)
    return text


def _action_value(names: dict[str, dict[str, int]], action: str, text: str, field: str) -> Any:
    text = text.strip()
    if action in names:
        known = {name.casefold(): ref for name, ref in names[action].items()}
        if text.casefold() not in known:
            raise FormProblem(field, "unknown_name")
        return known[text.casefold()]
    if action in ("round_robin", "follow_up"):
        return _number(text, field)
    return text


def _read(form: dict[str, str]) -> dict[str, Any]:
    """What the form holds, row by row, as it is shown again when something is wrong."""
    shown_conditions = [{"field": form.get(f"condition_{row}_field", ""), "op": form.get(f"condition_{row}_op", ""),
                         "value": form.get(f"condition_{row}_value", "")} for row in range(ROWS)]
    shown_actions = [{"action": form.get(f"action_{row}_action", ""), "value": form.get(f"action_{row}_value", ""),
                      "note": form.get(f"action_{row}_note", "")} for row in range(ROWS)]
    return {"name": form.get("name", ""), "trigger": form.get("trigger", ""), "hours": form.get("hours", ""),
            "enabled": form.get("enabled") == "on", "conditions": shown_conditions, "actions": shown_actions}


def _rule_input(db: Session, shop_id: int, shown: dict[str, Any]) -> rules.RuleInput:
    """The rule to save from the form's rows; FormProblem for a value that cannot be read."""
    hours = _number(shown["hours"], "hours") if shown["hours"].strip() else None
    parsed_conditions = []
    for row, item in enumerate(shown["conditions"]):
        if not item["field"] and not item["value"].strip():
            continue
        parsed_conditions.append({"field": item["field"], "op": item["op"],
                                  "value": _condition_value(item["op"], item["value"], f"condition-{row + 1}")})
    names = _names(db, shop_id)
    parsed_actions = []
    for row, item in enumerate(shown["actions"]):
        if not item["action"]:
            continue
        parsed: dict[str, Any] = {"action": item["action"],
                                  "value": _action_value(names, item["action"], item["value"], f"action-{row + 1}")}
        if item["action"] == "follow_up":
            parsed["note"] = item["note"]
        parsed_actions.append(parsed)
    return rules.RuleInput(name=shown["name"], trigger=shown["trigger"], hours=hours,
                           conditions=parsed_conditions, actions=parsed_actions, enabled=shown["enabled"])


def _rows(shown: dict[str, Any], kind: str) -> list[int]:
    """Form row (1-based) of each filled row, so that 'condition 2' of the rule names its row."""
    if kind == "condition":
        return [row + 1 for row, item in enumerate(shown["conditions"]) if item["field"] or item["value"].strip()]
    return [row + 1 for row, item in enumerate(shown["actions"]) if item["action"]]


def _problem(request: Request, shown: dict[str, Any], error: Invalid | FormProblem) -> dict[str, str]:
    lang = pages.language(request)
    if isinstance(error, FormProblem):
        return {error.field: lang.gettext(MESSAGES.get(error.code, error.code))}
    detail = error.detail
    field = {"invalid_name": "name", "invalid_text": "name", "invalid_trigger": "trigger",
             "invalid_hours": "hours", "too_many_rules": "name"}.get(error.code, "name")
    if (found := WHERE.match(detail)) is not None:
        kind, number = found.group(1), int(found.group(2))
        rows = _rows(shown, kind)
        field = f"{kind}-{rows[number - 1] if number <= len(rows) else 1}"
    elif error.code == "invalid_conditions":
        field = "condition-1"
    elif error.code == "invalid_actions":
        field = "action-1"
    message = lang.gettext(MESSAGES.get(error.code, "")) if error.code in MESSAGES else ""
    if error.code in ("invalid_conditions", "invalid_actions"):
        message = f"{message} {detail}"
    return {field: message or detail}


# --- pages --------------------------------------------------------------------------------

def _render(request: Request, db: Session, signed: Signed, template: str, context: dict[str, Any], *,
            status: int = 200) -> Response:
    values = {**chrome(db, signed), "query": ListQuery(), "settings_page": "rules",
              "notice": NOTICES.get(request.query_params.get("notice") or ""), "triggers": conditions.TRIGGERS,
              "trigger_labels": TRIGGER_LABELS, "fields": conditions.FIELDS, "field_labels": FIELD_LABELS,
              "operator_labels": OPERATOR_LABELS, "action_names": list(automation_actions.ACTIONS),
              "action_labels": ACTION_LABELS, **context}
    return pages.render(request, template, values, status=status)


def _list_page(request: Request, db: Session, signed: Signed, *, form: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, status: int = 200) -> Response:
    shop_id = signed.actor.shop_id
    return _render(request, db, signed, "settings_rules.html", {
        "rules": rules.list_rules(db, shop_id), "form": form or _rule_form(db, shop_id, None),
        "errors": errors or {}}, status=status)


def _edit_page(request: Request, db: Session, signed: Signed, rule: Rule, *, form: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return _render(request, db, signed, "settings_rule.html", {
        "rule": rule, "form": form or _rule_form(db, signed.actor.shop_id, rule), "errors": errors or {}},
        status=status)


def _rule(db: Session, signed: Signed, rule_id: str) -> Rule:
    """404 for a made-up id and for another shop's rule alike."""
    return rules.get(db, signed.actor.shop_id, parse_id(rule_id) or 0)


@router.get(BASE)
def rules_page(request: Request, db: DB, signed: Agent) -> Response:
    require_admin(signed)
    return _list_page(request, db, signed)


@router.post(BASE)
def add_rule(request: Request, db: DB, signed: CheckedAgent, posted: Posted) -> Response:
    require_admin(signed)
    shop_id = signed.actor.shop_id
    shown = _read(posted)
    try:
        rules.create(db, shop_id, _rule_input(db, shop_id, shown))
    except (Invalid, FormProblem) as error:
        db.rollback()
        return _list_page(request, db, signed, form=shown, errors=_problem(request, shown, error), status=400)
    db.commit()
    return pages.redirect(f"{BASE}?notice=added")


@router.get(BASE + "/{rule_id}")
def edit_rule(request: Request, rule_id: str, db: DB, signed: Agent) -> Response:
    require_admin(signed)
    return _edit_page(request, db, signed, _rule(db, signed, rule_id))


@router.post(BASE + "/{rule_id}")
def save_rule(request: Request, rule_id: str, db: DB, signed: CheckedAgent, posted: Posted) -> Response:
    require_admin(signed)
    shop_id = signed.actor.shop_id
    rule = _rule(db, signed, rule_id)
    shown = _read(posted)
    try:
        data = _rule_input(db, shop_id, shown)
        rules.update(db, shop_id, rule.id, {"name": data.name, "trigger": data.trigger, "hours": data.hours,
                                            "conditions": data.conditions, "actions": data.actions,
                                            "enabled": data.enabled})
    except (Invalid, FormProblem) as error:
        db.rollback()
        return _edit_page(request, db, signed, _rule(db, signed, rule_id), form=shown,
                          errors=_problem(request, shown, error), status=400)
    db.commit()
    return pages.redirect(f"{BASE}?notice=saved")


rule_lists.add_routes(router, BASE, rules)
