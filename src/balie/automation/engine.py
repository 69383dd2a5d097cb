"""Running a shop's automation rules for an event (conditions.py says when a rule applies,
actions.py what it does).

Rules run after commit, in a worker: `run` is called from a due job's handler (the
`message.received` job, this module's `automation.event` job, the SLA jobs), whose
transaction also marks the job done. Each enabled rule for the trigger runs in order, at most
once per event (the run log's unique (rule, event key)), each in its own savepoint: a rule
that fails is rolled back alone, logged as failed, and the next one runs. Changes a rule makes
raise `conversation_updated` again, carrying the chain of rules that led to them, so a loop
stops (conditions.may_fire) with the reason logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from balie import clock
from balie.audit import service as audit_service
from balie.automation import conditions
from balie.automation.actions import ACTIONS, Context, Skip
from balie.automation.models import Rule, RuleRun
from balie.automation.queue import KIND, enqueue
from balie.conversations.models import Conversation, Message
from balie.customers import tags as customer_tags
from balie.customers.models import Customer
from balie.db import scoped
from balie.errors import Invalid
from balie.events import Event, publish_on_commit, savepoint
from balie.hours import schedule as hours_schedule
from balie.hours import service as hours_service
from balie.hours.models import HOURS_CHANNELS
from balie.sla import service as sla_service

log = logging.getLogger(__name__)
__all__ = ["KIND", "enqueue", "gather", "run"]
MAX_REASON = 500


def run(session: Session, trigger: str, *, shop_id: int, conversation_id: int, message_id: int | None = None,
        chain: tuple[int, ...] = (), event_key: str | None = None,
        rule_ids: Collection[int] | None = None) -> list[RuleRun]:
    """Runs the shop's enabled rules for `trigger` in order, each at most once for this event.
    `event_key` names the event (by default the trigger with the message, or with this moment
    when there is no message); `rule_ids` limits the run to those rules (a timer of one rule)."""
    query = scoped(Rule, shop_id).where(Rule.trigger == trigger, Rule.enabled.is_(True))
    if rule_ids is not None:
        query = query.where(Rule.id.in_(sorted(rule_ids)))
    rules = list(session.scalars(query.order_by(Rule.position, Rule.id)))
    if not rules:
        return []
    conversation = session.scalars(scoped(Conversation, shop_id).where(Conversation.id == conversation_id)).first()
    if conversation is None:  # deleted since, with its customer
        return []
    if event_key is None:
        event_key = f"{trigger}:{conversation_id}:" + (f"m{message_id}" if message_id else clock.now().isoformat())
    facts = gather(session, conversation, message_id, chain)
    return [run for rule in rules if (run := _run_rule(session, rule, conversation, facts, trigger, event_key))]


def gather(session: Session, conversation: Conversation, message_id: int | None,
           chain: tuple[int, ...]) -> conditions.Facts:
    """The conversation, its customer's tags and the event's message (or the customer's latest) as
    rules see them."""
    now = clock.now()
    customer = session.get(Customer, conversation.customer_id)
    message_text = ""
    query = scoped(Message, conversation.shop_id).where(Message.conversation_id == conversation.id)
    if message_id is not None:
        message = session.scalars(query.where(Message.id == message_id)).first()
    else:
        message = session.scalars(query.where(Message.direction == "in").order_by(Message.id.desc()).limit(1)).first()
    if message is not None:
        message_text = message.text[:conditions.MAX_TEXT]
    last_reply = session.scalar(
        select(func.max(Message.created_at)).where(Message.shop_id == conversation.shop_id,
                                                   Message.conversation_id == conversation.id,
                                                   Message.direction == "out"))
    tags = frozenset(conversation.tag_list)
    return conditions.Facts(
        channel=conversation.channel, priority=conversation.priority, status=conversation.status,
        language=str(getattr(customer, "language", "") or ""), tags=tags,
        customer_tags=frozenset(customer_tags.of_customer(session, shop_id=conversation.shop_id,
                                                          customer_id=conversation.customer_id)),
        text=message_text, open_now=_open_now(session, conversation, now),
        minutes_since_reply=None if last_reply is None else (now - last_reply).total_seconds() / 60,
        compliment="compliment" in tags, chain=chain,
    )


def _open_now(session: Session, conversation: Conversation, now: dt.datetime) -> bool:
    """Open by the channel's hours (email's for a channel without its own); no hours: open."""
    channel = conversation.channel if conversation.channel in HOURS_CHANNELS else "email"
    week = hours_service.load(session, conversation.shop_id, channel, at=now)
    return not week.configured or hours_schedule.is_open(week, now)


def _already_ran(session: Session, rule: Rule, event_key: str) -> bool:
    found = session.scalar(select(RuleRun.id).where(RuleRun.rule_id == rule.id, RuleRun.event_key == event_key))
    return found is not None


def _log(session: Session, run: RuleRun) -> RuleRun | None:
    try:
        with savepoint(session):
            session.add(run)
            session.flush()
    except IntegrityError:  # another worker logged this rule for this event first
        return None
    return run


def _run_rule(session: Session, rule: Rule, conversation: Conversation, facts: conditions.Facts, trigger: str,
              event_key: str) -> RuleRun | None:
    if _already_ran(session, rule, event_key):
        return None
    now = clock.now()
    run = RuleRun(shop_id=rule.shop_id, rule_id=rule.id, rule_name=rule.name, conversation_id=conversation.id,
                  trigger=trigger, event_key=event_key[:200], outcome="skipped", reason="", results=[], at=now)
    if not conditions.may_fire(rule.id, facts):
        chain = " → ".join(str(rule_id) for rule_id in facts.chain)
        run.reason = (f"loop stopped: this event was caused by rules {chain}, and this rule is one of them"
                      if rule.id in facts.chain else
                      f"loop stopped: {conditions.MAX_CHAIN} rules in a row already acted on this event ({chain})")
        return _log(session, run)
    try:
        parsed = conditions.parse_conditions(rule.conditions)
    except Invalid as error:  # saved checked; a later, stricter check can still refuse it
        run.outcome, run.reason = "failed", f"conditions no longer valid: {error.detail}"[:MAX_REASON]
        return _log(session, run)
    holds, why = conditions.matches(parsed, facts)
    run.reason = why[:MAX_REASON]
    if not holds:
        return _log(session, run)
    if _log(session, run) is None:
        return None
    # Logged first (that claims the event for this rule), then the actions in a savepoint of
    # their own: a failure undoes them all and the log says why.
    try:
        with savepoint(session):
            context = Context(session=session, rule=rule, run=run, conversation=conversation, now=now,
                              trigger=trigger)
            run.results = [_perform(context, number, item) for number, item in enumerate(rule.actions, start=1)]
            run.outcome = "fired"
            _announce(context, (*facts.chain, rule.id))
            session.flush()
    except Exception as error:
        log.exception("automation rule %s failed on conversation %s (%s)", rule.id, conversation.id, event_key)
        session.refresh(run)
        run.outcome, run.results = "failed", []
        run.reason = f"the rule failed and nothing it did was kept: {error.__class__.__name__}: {error}"[:MAX_REASON]
        session.flush()
    return run


def _perform(context: Context, number: int, item: dict[str, Any]) -> dict[str, Any]:
    name = str(item.get("action"))
    action = ACTIONS.get(name)
    if action is None:
        return {"action": name, "ok": False, "detail": f"action {number}: {name} is not an action (any more)"}
    try:
        detail = action.perform(context, item)
    except Skip as skipped:
        return {"action": name, "ok": False, "detail": str(skipped)}
    return {"action": name, "ok": True, "detail": detail}


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _announce(context: Context, chain: tuple[int, ...]) -> None:
    """What the rule changed: audited, pushed to the agents' screens, and an event of its own
    for the rules that react to changes (carrying the chain, against loops)."""
    if not context.changed:
        return
    conversation, session = context.conversation, context.session
    # The SLA timers follow a status or priority a rule set, as they follow an agent's.
    if "status" in context.changed:
        sla_service.on_status(session, conversation, context.changed["status"][0], context.now)
    if "priority" in context.changed:
        sla_service.on_priority(session, conversation, context.changed["priority"][0], context.now)
    changed = {key: [_shown(before), _shown(after)] for key, (before, after) in context.changed.items()}
    audit_service.record(session, shop_id=conversation.shop_id, actor_agent_id=None, action="conversation.updated",
                         object_type="conversation", object_id=conversation.id,
                         data={**changed, "rule_id": context.rule.id, "rule_run_id": context.run.id})
    publish_on_commit(session, Event("conversation.updated", conversation.shop_id,
                                     {"conversation_id": conversation.id, "changed": sorted(changed)}))
    enqueue(session, shop_id=conversation.shop_id, conversation_id=conversation.id, trigger="conversation_updated",
            chain=chain, changed=sorted(changed), event_key=f"conversation_updated:{context.run.id}")
