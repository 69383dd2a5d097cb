"""The invitations settings page (shop admins only): the rules that invite a hesitating shopper
to chat or to be called back, in the order they are tried, with how often each invitation was
shown and accepted; and the reply-time target above which chat is not offered.

As on the other settings pages: plain forms with the CSRF token, every wrong field explained
beside it, and nothing stored from a form that has one wrong field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from balie.errors import Invalid
from balie.inputs import parse_id
from balie.proactive import rules
from balie.proactive import service as proactive_service
from balie.proactive.models import ACTIONS, TRIGGERS, InvitationRule
from balie.ui import pages, rule_lists
from balie.ui.auth import Agent, CheckedAgent, Signed, require_admin
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute
from balie.ui.settings_widget import Posted
from balie.web.deps import DB

router = APIRouter(route_class=UiRoute, include_in_schema=False)
BASE = "/settings/invitations"
FIELDS = ("name", "trigger", "threshold", "action", "message_nl", "message_en")

NOTICES = {"added": N_("Rule added."), "saved": N_("Changes saved."), "removed": N_("Rule deleted.")}
TRIGGER_LABELS = {
    "checkout_idle": N_("On a checkout page without progress"),
    "cart_value": N_("Cart value at least"),
    "product_views": N_("Same product seen on several visits"),
}
THRESHOLD_UNITS = {"checkout_idle": N_("seconds"), "cart_value": N_("euro"), "product_views": N_("visits")}
ACTION_LABELS = {"chat": N_("Invite to chat"), "callback": N_("Offer a call-back")}
MESSAGES = {
    "name_missing": N_("Give the rule a name."),
    "invalid_text": N_("Remove the control characters."),
    "too_long": N_("This text is too long."),
    "invalid_choice": N_("Choose one of the options."),
    "invalid_threshold": N_("Enter a number in the range shown for this trigger."),
    "invalid_number": N_("Enter a whole number in the range shown."),
    "too_many_rules": N_("A shop has at most 50 rules."),
}



def _rule_form(rule: InvitationRule | None) -> dict[str, Any]:
    if rule is None:
        return {"name": "", "trigger": "checkout_idle", "threshold": "60", "action": "chat",
                "message_nl": "Kan ik je helpen met je bestelling?", "message_en": "Can I help you with your order?",
                "enabled": True}
    return {"name": rule.name, "trigger": rule.trigger, "threshold": rules.threshold_text(rule.threshold),
            "action": rule.action, "message_nl": rule.message_nl, "message_en": rule.message_en,
            "enabled": rule.enabled}


def _render(request: Request, db: Session, signed: Signed, template: str, context: dict[str, Any], *,
            status: int = 200) -> Response:
    values = {**chrome(db, signed), "query": ListQuery(), "settings_page": "invitations",
              "notice": NOTICES.get(request.query_params.get("notice") or ""), "triggers": TRIGGERS,
              "actions": ACTIONS, "trigger_labels": TRIGGER_LABELS, "threshold_units": THRESHOLD_UNITS,
              "action_labels": ACTION_LABELS, "thresholds": rules.THRESHOLDS, **context}
    return pages.render(request, template, values, status=status)


def _list_page(request: Request, db: Session, signed: Signed, *, form: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, target: str | None = None,
               target_error: str = "", status: int = 200) -> Response:
    shop_id = signed.actor.shop_id
    counts = rules.counts(db, shop_id)
    listed = [{"rule": rule, "threshold": rules.threshold_text(rule.threshold),
               "counts": counts.get(rule.id, rules.Counts(0, 0, None))} for rule in rules.list_rules(db, shop_id)]
    return _render(request, db, signed, "settings_invitations.html", {
        "rules": listed, "form": form or _rule_form(None), "errors": errors or {},
        "target": target if target is not None else str(proactive_service.reply_target_seconds(db, shop_id)),
        "target_error": target_error, "target_range": proactive_service.REPLY_TARGET_SECONDS,
    }, status=status)


def _edit_page(request: Request, db: Session, signed: Signed, rule: InvitationRule, *,
               form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               status: int = 200) -> Response:
    return _render(request, db, signed, "settings_invitation.html", {
        "rule": rule, "form": form or _rule_form(rule), "errors": errors or {}}, status=status)


def _read(form: dict[str, str]) -> tuple[dict[str, Any], rules.RuleInput]:
    values: dict[str, Any] = {name: form.get(name, "") for name in FIELDS}
    values["enabled"] = form.get("enabled") == "on"
    return values, rules.RuleInput(**values)


def _errors(request: Request, problems: dict[str, tuple[str, str]]) -> dict[str, str]:
    lang = pages.language(request)
    return {field: lang.gettext(MESSAGES.get(code, detail)) for field, (code, detail) in problems.items()}


def _rule(db: Session, signed: Signed, rule_id: str) -> InvitationRule:
    """404 for a made-up id and for another shop's rule alike."""
    return rules.get(db, signed.actor.shop_id, parse_id(rule_id) or 0)


@router.get(BASE)
def invitations_page(request: Request, db: DB, signed: Agent) -> Response:
    require_admin(signed)
    return _list_page(request, db, signed)


@router.post(BASE)
def add_rule(request: Request, db: DB, signed: CheckedAgent, posted: Posted) -> Response:
    require_admin(signed)
    values, rule_input = _read(posted)
    try:
        rules.create(db, signed.actor.shop_id, rule_input)
    except rules.RuleInvalid as invalid:
        db.rollback()
        return _list_page(request, db, signed, form=values, errors=_errors(request, invalid.problems), status=400)
    except Invalid as refused:  # too many rules
        db.rollback()
        return _list_page(request, db, signed, form=values, status=400,
                          errors=_errors(request, {"name": (refused.code, refused.detail)}))
    db.commit()
    return pages.redirect(f"{BASE}?notice=added")


@router.post(BASE + "/target")
def save_target(request: Request, db: DB, signed: CheckedAgent, posted: Posted) -> Response:
    require_admin(signed)
    raw = posted.get("reply_target_seconds", "").strip()
    seconds = parse_id(raw) if raw.isdecimal() else None
    try:
        proactive_service.set_reply_target_seconds(db, signed.actor.shop_id, seconds or 0)
    except Invalid as refused:
        db.rollback()
        message = pages.language(request).gettext(MESSAGES.get(refused.code, refused.detail))
        return _list_page(request, db, signed, target=raw[:20], target_error=message, status=400)
    db.commit()
    return pages.redirect(f"{BASE}?notice=saved")


@router.get(BASE + "/{rule_id}")
def edit_rule(request: Request, rule_id: str, db: DB, signed: Agent) -> Response:
    require_admin(signed)
    return _edit_page(request, db, signed, _rule(db, signed, rule_id))


@router.post(BASE + "/{rule_id}")
def save_rule(request: Request, rule_id: str, db: DB, signed: CheckedAgent, posted: Posted) -> Response:
    require_admin(signed)
    rule = _rule(db, signed, rule_id)
    values, rule_input = _read(posted)
    try:
        rules.update(db, signed.actor.shop_id, rule.id, rule_input)
    except rules.RuleInvalid as invalid:
        db.rollback()
        rule = _rule(db, signed, rule_id)
        return _edit_page(request, db, signed, rule, form=values, errors=_errors(request, invalid.problems),
                          status=400)
    db.commit()
    return pages.redirect(f"{BASE}?notice=saved")


rule_lists.add_routes(router, BASE, rules)
