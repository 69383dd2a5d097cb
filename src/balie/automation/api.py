"""/api/v1/rules (shop admins change them; every agent may read) and the rule runs of a conversation."""

from __future__ import annotations

from fastapi import APIRouter, Response

from balie.agents.service import Actor
from balie.automation import rules
from balie.automation.models import Rule, RuleRun
from balie.automation.schemas import (
    ActionResult,
    RuleIn,
    RuleList,
    RuleOrder,
    RuleOut,
    RulePatch,
    RuleRunList,
    RuleRunOut,
)
from balie.conversations import service as conversation_service
from balie.errors import Forbidden
from balie.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1", tags=["automation"])


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only a shop admin can change automation rules", code="admin_only")


def _out(rule: Rule) -> RuleOut:
    return RuleOut(id=rule.id, name=rule.name, position=rule.position, enabled=rule.enabled, trigger=rule.trigger,
                   hours=rule.hours, conditions=rule.conditions, actions=rule.actions, created_at=rule.created_at,
                   updated_at=rule.updated_at)


def _run_out(run: RuleRun) -> RuleRunOut:
    return RuleRunOut(id=run.id, rule_id=run.rule_id, rule_name=run.rule_name, trigger=run.trigger,
                      event_key=run.event_key, outcome=run.outcome,  # type: ignore[arg-type]
                      reason=run.reason, results=[ActionResult(**item) for item in run.results], at=run.at)


@router.get("/rules", response_model=RuleList)
def list_rules(db: DB, actor: ApiActor) -> RuleList:
    """The shop's rules in the order they run."""
    return RuleList(items=[_out(rule) for rule in rules.list_rules(db, actor.shop_id)])


@router.post("/rules", status_code=201, response_model=RuleOut)
def create_rule(body: RuleIn, db: DB, actor: ApiActor) -> RuleOut:
    """A new rule runs after the existing ones. 400 names the field, condition or action that is wrong."""
    _admin(actor)
    rule = rules.create(db, actor.shop_id, rules.RuleInput(**body.model_dump()))
    db.commit()
    return _out(rule)


@router.post("/rules/order", response_model=RuleList)
def order_rules(body: RuleOrder, db: DB, actor: ApiActor) -> RuleList:
    _admin(actor)
    ordered = rules.reorder(db, actor.shop_id, body.rule_ids)
    db.commit()
    return RuleList(items=[_out(rule) for rule in ordered])


@router.get("/rules/{rule_id}", response_model=RuleOut)
def get_rule(rule_id: int, db: DB, actor: ApiActor) -> RuleOut:
    return _out(rules.get(db, actor.shop_id, rule_id))


@router.patch("/rules/{rule_id}", response_model=RuleOut)
def update_rule(rule_id: int, body: RulePatch, db: DB, actor: ApiActor) -> RuleOut:
    """Only the fields sent change; the rule is checked again as a whole."""
    _admin(actor)
    changes = body.model_dump(exclude_unset=True)
    rule = rules.update(db, actor.shop_id, rule_id, changes)
    db.commit()
    return _out(rule)


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: int, db: DB, actor: ApiActor) -> Response:
    """The rule's runs stay on the conversations, under its name."""
    _admin(actor)
    rules.delete(db, actor.shop_id, rule_id)
    db.commit()
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}/rule-runs", response_model=RuleRunList)
def rule_runs(conversation_id: int, db: DB, actor: ApiActor) -> RuleRunList:
    """Which rules were considered for this conversation, oldest first: fired, skipped (and
    why) or failed, and what each action did."""
    conversation = conversation_service.get(db, actor, conversation_id)
    return RuleRunList(items=[_run_out(run) for run in rules.runs_of(db, actor.shop_id, conversation.id)])
