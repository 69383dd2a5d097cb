"""What an automation rule can do, in one table (ACTIONS): each action's check, run when the
rule is saved (the bad part named), and its effect, run by the engine inside the rule's
savepoint after the event's commit.

An action whose subject has gone since the rule was saved (a deleted agent, team or canned
reply, a tag the conversation does not have) raises Skip: the run logs why, the rule's other
actions still run, and the worker carries on. Anything that talks to the outside world (a
webhook) is only put on the schedule here; it goes out after the commit (webhooks.py).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from balie import tagging, text
from balie.agents import service as agent_service
from balie.agents.models import Agent, Team
from balie.automation.models import Rule, RuleRun
from balie.canned import service as canned_service
from balie.commerce import in_conversation
from balie.conversations import service as conversation_service
from balie.conversations.models import PRIORITIES, Conversation, ConversationTag, Message
from balie.customers import blocking
from balie.customers import language as customer_language
from balie.customers.models import BLOCK_STATES, Customer
from balie.db import get_scoped
from balie.errors import Invalid, NotFound
from balie.events import Event, publish_on_commit
from balie.follow_ups import service as follow_ups
from balie.inputs import check_text, valid_id
from balie.outbox import service as outbox_service
from balie.scheduling import service as scheduling_service
from balie.shops import service as shop_service

MAX_ACTIONS = 10
MAX_NOTE = 2000
MAX_NOTICE = 500
MAX_URL = 2000
MAX_FOLLOW_UP_HOURS = 24 * 366
MAX_CAPACITY = 500
STATUSES = ("open", "pending", "resolved", "closed")  # snoozing needs a moment, which a rule has not
WEBHOOK_KIND = "automation.webhook"


class Skip(Exception):
    """The action could not apply here (its agent, team, reply or tag is gone): logged, not fatal."""


@dataclass
class Context:
    """What an action acts on, and what it changed (the engine announces those changes)."""

    session: Session
    rule: Rule
    run: RuleRun
    conversation: Conversation
    now: dt.datetime
    trigger: str
    changed: dict[str, list[Any]] = field(default_factory=dict)
    webhooks: int = 0

    def change(self, name: str, value: Any) -> bool:
        before = getattr(self.conversation, name)
        if before == value:
            return False
        first = self.changed.get(name, [before, value])[0]
        self.changed[name] = [first, value]
        setattr(self.conversation, name, value)
        return True


@dataclass(frozen=True)
class Action:
    # (session, shop_id, where, value, item) → the stored form of the action, or Invalid
    check: Callable[[Session, int, str, Any, dict[str, Any]], dict[str, Any]]
    perform: Callable[[Context, dict[str, Any]], str]


def _fail(where: str, problem: str) -> Invalid:
    return Invalid(f"{where}: {problem}", code="invalid_actions")


# --- checks -------------------------------------------------------------------------------

def _id_of(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not valid_id(value):
        raise _fail(where, "needs an id (a whole number)")
    return value


def _check_agent(session: Session, shop_id: int, where: str, value: Any, item: dict[str, Any]) -> dict[str, Any]:
    agent_id = _id_of(where, value)
    try:
        agent_service.member(session, shop_id=shop_id, agent_id=agent_id)
    except NotFound:
        raise _fail(where, f"agent {agent_id} does not work in this shop") from None
    return {"value": agent_id}


def _check_team(session: Session, shop_id: int, where: str, value: Any, item: dict[str, Any]) -> dict[str, Any]:
    team_id = _id_of(where, value)
    try:
        get_scoped(session, Team, shop_id, team_id)
    except NotFound:
        raise _fail(where, f"team {team_id} does not exist in this shop") from None
    return {"value": team_id}


def _check_canned(session: Session, shop_id: int, where: str, value: Any, item: dict[str, Any]) -> dict[str, Any]:
    reply_id = _id_of(where, value)
    try:
        canned_service.get(session, shop_id=shop_id, reply_id=reply_id)
    except NotFound:
        raise _fail(where, f"canned reply {reply_id} does not exist in this shop") from None
    return {"value": reply_id}


def _check_capacity(session: Session, shop_id: int, where: str, value: Any, item: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAPACITY:
        raise _fail(where, f"the capacity is a number of open conversations per agent, 1 to {MAX_CAPACITY}")
    return {"value": value}


def _check_tag(session: Session, shop_id: int, where: str, value: Any, item: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "needs a tag")
    try:
        return {"value": tagging.normalise(value)}
    except Invalid as error:
        raise _fail(where, error.detail) from None


def _choice(options: tuple[str, ...]) -> Callable[[Session, int, str, Any, dict[str, Any]], dict[str, Any]]:
    def check(session: Session, shop_id: int, where: str, value: Any, item: dict[str, Any]) -> dict[str, Any]:
        if value not in options:
            raise _fail(where, f"choose one of {', '.join(options)}")
        return {"value": value}
    return check


def _texts(limit: int) -> Callable[[Session, int, str, Any, dict[str, Any]], dict[str, Any]]:
    def check(session: Session, shop_id: int, where: str, value: Any, item: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value, str) or not value.strip():
            raise _fail(where, "needs a text")
        if len(value) > limit:
            raise _fail(where, f"the text is at most {limit} characters")
        try:
            check_text(value, "text")
        except Invalid as error:
            raise _fail(where, error.detail) from None
        return {"value": value.strip()}
    return check


def _check_url(session: Session, shop_id: int, where: str, value: Any, item: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, str) or len(value) > MAX_URL:
        raise _fail(where, f"needs an https:// URL of at most {MAX_URL} characters")
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise _fail(where, "needs an https:// URL with a host (and no user name or password in it)")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise _fail(where, "a URL has no spaces or control characters")
    return {"value": url}


def _check_follow_up(session: Session, shop_id: int, where: str, value: Any, item: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_FOLLOW_UP_HOURS:
        raise _fail(where, f"the follow-up is a number of hours ahead, 1 to {MAX_FOLLOW_UP_HOURS}")
    note = item.get("note")
    if not isinstance(note, str):
        raise _fail(where, "a follow-up needs a note: what to check")
    try:
        note = follow_ups.check_note(note)
    except Invalid as error:
        raise _fail(where, error.detail) from None
    return {"value": value, "note": note}


# --- effects ------------------------------------------------------------------------------

def _assign_agent(context: Context, item: dict[str, Any]) -> str:
    agent_id = int(item["value"])
    try:
        agent = agent_service.member(context.session, shop_id=context.conversation.shop_id, agent_id=agent_id)
    except NotFound:
        raise Skip(f"agent {agent_id} no longer works in this shop") from None
    if not context.change("assignee_id", agent.id):
        return f"already assigned to {agent.name}"
    return f"assigned to {agent.name}"


def _assign_team(context: Context, item: dict[str, Any]) -> str:
    team_id = int(item["value"])
    try:
        team = get_scoped(context.session, Team, context.conversation.shop_id, team_id)
    except NotFound:
        raise Skip(f"team {team_id} no longer exists") from None
    if not context.change("team_id", team.id):
        return f"already with team {team.name}"
    return f"given to team {team.name}"


def _round_robin(context: Context, item: dict[str, Any]) -> str:
    """To the online agent with the fewest open conversations, below the capacity (ties: the
    lowest id, so the load evens out in turn). An assigned conversation stays with its agent."""
    capacity = int(item["value"])
    conversation, session = context.conversation, context.session
    if conversation.assignee_id is not None:
        return "already assigned"
    online = agent_service.online_agents(session, conversation.shop_id, context.now)
    if not online:
        raise Skip("no agent is online")
    ids = [agent.id for agent in online]
    counts: dict[int | None, int] = {assignee: count for assignee, count in session.execute(
        select(Conversation.assignee_id, func.count())
        .where(Conversation.shop_id == conversation.shop_id, Conversation.status == "open",
               Conversation.assignee_id.in_(ids))
        .group_by(Conversation.assignee_id)
    )}
    load, chosen = min((counts.get(agent.id, 0), agent.id) for agent in online)
    if load >= capacity:
        raise Skip(f"every online agent already has {capacity} open conversations")
    agent = next(agent for agent in online if agent.id == chosen)
    context.change("assignee_id", agent.id)
    return f"assigned to {agent.name} ({load} open before)"


def _tags(context: Context) -> list[str]:
    return context.conversation.tag_list


def _add_tag(context: Context, item: dict[str, Any]) -> str:
    tag, tags = str(item["value"]), _tags(context)
    if tag in tags:
        return f"already tagged {tag}"
    if len(tags) >= conversation_service.MAX_TAGS:
        raise Skip(f"the conversation already has {conversation_service.MAX_TAGS} tags")
    conversation = context.conversation
    context.session.add(ConversationTag(shop_id=conversation.shop_id, conversation_id=conversation.id, tag=tag))
    context.change("tags", " ".join([*tags, tag]))
    return f"tagged {tag}"


def _remove_tag(context: Context, item: dict[str, Any]) -> str:
    tag, tags = str(item["value"]), _tags(context)
    if tag not in tags:
        raise Skip(f"the conversation has no tag {tag}")
    conversation = context.conversation
    context.session.execute(delete(ConversationTag).where(
        ConversationTag.shop_id == conversation.shop_id, ConversationTag.conversation_id == conversation.id,
        ConversationTag.tag == tag))
    context.change("tags", " ".join(t for t in tags if t != tag))
    return f"tag {tag} removed"


def _set_priority(context: Context, item: dict[str, Any]) -> str:
    value = str(item["value"])
    return f"priority {value}" if context.change("priority", value) else f"priority was already {value}"


def _set_status(context: Context, item: dict[str, Any]) -> str:
    value = str(item["value"])
    if not context.change("status", value):
        return f"status was already {value}"
    context.change("snoozed_until", None)
    if value in ("resolved", "closed"):
        context.change("resolved_at", context.now)
        context.change("waiting_since", None)
    else:
        context.change("resolved_at", None)
    return f"status {value}"


def _message(context: Context, direction: str, body: str) -> Message:
    conversation = context.conversation
    message = Message(
        shop_id=conversation.shop_id, conversation_id=conversation.id, direction=direction,
        channel=conversation.channel, author_agent_id=None, text=body, html=text.text_to_html(body),
        delivery_state="queued" if direction == "out" else None,
        external_id=f"<{secrets.token_hex(16)}@{conversation.channel}.balie>" if direction == "out" else None,
        created_at=context.now,
    )
    context.session.add(message)
    context.session.flush()
    conversation.message_count = Conversation.message_count + 1  # in SQL: concurrent writers all count
    publish_on_commit(context.session, Event("message.created", conversation.shop_id, {
        "conversation_id": conversation.id, "message_id": message.id, "direction": direction}))
    return message


def _send_canned(context: Context, item: dict[str, Any]) -> str:
    reply_id, conversation, session = int(item["value"]), context.conversation, context.session
    try:
        reply = canned_service.get(session, shop_id=conversation.shop_id, reply_id=reply_id)
    except NotFound:
        raise Skip(f"canned reply {reply_id} was deleted") from None
    customer = session.get_one(Customer, conversation.customer_id)
    agent = session.get(Agent, conversation.assignee_id) if conversation.assignee_id else None
    shop = shop_service.get(session, conversation.shop_id)
    values = canned_service.variables_for(
        customer_name=customer.name or "", agent_name=agent.name if agent else "", shop_name=shop.name,
        conversation_id=conversation.id, subject=conversation.subject)
    if "order." in reply.body:  # {{order.number}} and friends: the order the conversation is about
        values |= in_conversation.of_conversation(
            session, conversation, language=customer_language.of_customer(customer.language, shop.language),
            zone=in_conversation.zone_of(shop.time_zone), now=context.now)
    body = canned_service.render(reply.body, values).strip()
    if not body:
        raise Skip(f"canned reply {reply.title!r} is empty once filled in")
    message = _message(context, "out", body)
    outbox_service.enqueue(session, message)  # the dispatcher sends it after the commit
    conversation.last_activity_at = context.now
    conversation.preview = text.preview(body)
    return f"sent canned reply {reply.title!r}"


def _add_note(context: Context, item: dict[str, Any]) -> str:
    _message(context, "note", f"{item['value']}\n\n— {context.rule.name}")
    return "note added"


def _notify(context: Context, item: dict[str, Any]) -> str:
    conversation = context.conversation
    publish_on_commit(context.session, Event("automation.notify", conversation.shop_id, {
        "conversation_id": conversation.id, "rule": context.rule.name, "text": str(item["value"])}))
    return "agents notified"


def _webhook(context: Context, item: dict[str, Any]) -> str:
    conversation = context.conversation
    body = {
        "type": "automation.rule_fired", "rule": {"id": context.rule.id, "name": context.rule.name},
        "trigger": context.trigger, "event_key": context.run.event_key, "run_id": context.run.id,
        "at": context.now.isoformat(),
        "conversation": {"id": conversation.id, "channel": conversation.channel, "status": conversation.status,
                         "priority": conversation.priority, "tags": conversation.tag_list,
                         "assignee_id": conversation.assignee_id, "subject": conversation.subject[:500]},
    }
    # One job per call, keyed on the run (and its place in the rule): a repeat is the same job.
    due = context.now + dt.timedelta(microseconds=context.webhooks)
    context.webhooks += 1
    job, _ = scheduling_service.schedule(context.session, shop_id=conversation.shop_id, kind=WEBHOOK_KIND,
                                         ref_id=context.run.id, due_at=due,
                                         payload={"url": item["value"], "body": body})
    return f"webhook queued (job {job.id})"


def _follow_up(context: Context, item: dict[str, Any]) -> str:
    conversation, session = context.conversation, context.session
    agent = session.get(Agent, conversation.assignee_id) if conversation.assignee_id else None
    due = (context.now + dt.timedelta(hours=int(item["value"]))).replace(microsecond=0)
    _, created = scheduling_service.schedule(
        session, shop_id=conversation.shop_id, kind=follow_ups.KIND, ref_id=conversation.id, due_at=due,
        payload={"note": item["note"], "agent_id": agent.id if agent else None,
                 "agent_name": agent.name if agent else context.rule.name})
    return f"follow-up at {due.isoformat()}" if created else "a follow-up at that moment already exists"


def _block_customer(context: Context, item: dict[str, Any]) -> str:
    """Blocks or mutes the conversation's customer: from their next message on, no acknowledgement,
    rules or SLA timers (customers/blocking.py). Audited with no agent, the rule as the reason."""
    mode = str(item["value"])
    blocking.block(context.session, shop_id=context.conversation.shop_id, customer_id=context.conversation.customer_id,
                   mode=mode, actor_agent_id=None, reason=f"{context.rule.name[:450]}")
    return f"customer {mode}"


# The one list of actions.
ACTIONS: dict[str, Action] = {
    "assign_agent": Action(_check_agent, _assign_agent),
    "assign_team": Action(_check_team, _assign_team),
    "round_robin": Action(_check_capacity, _round_robin),
    "add_tag": Action(_check_tag, _add_tag),
    "remove_tag": Action(_check_tag, _remove_tag),
    "set_priority": Action(_choice(PRIORITIES), _set_priority),
    "set_status": Action(_choice(STATUSES), _set_status),
    "send_canned": Action(_check_canned, _send_canned),
    "add_note": Action(_texts(MAX_NOTE), _add_note),
    "notify": Action(_texts(MAX_NOTICE), _notify),
    "webhook": Action(_check_url, _webhook),
    "follow_up": Action(_check_follow_up, _follow_up),
    "block_customer": Action(_choice(BLOCK_STATES), _block_customer),
}


def parse_actions(session: Session, shop_id: int, raw: object) -> list[dict[str, Any]]:
    """Actions from JSON (`[{"action", "value"[, "note"]}]`), checked against the shop, or
    Invalid naming the first bad one."""
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ACTIONS:
        raise Invalid(f"actions are a list of 1 to {MAX_ACTIONS}", code="invalid_actions")
    parsed = []
    for number, item in enumerate(raw, start=1):
        where = f"action {number}"
        if not isinstance(item, dict) or "action" not in item or set(item) - {"action", "value", "note"}:
            raise _fail(where, 'write {"action", "value"} (a follow-up also has "note")')
        name = item["action"]
        if not isinstance(name, str) or name not in ACTIONS:
            raise _fail(where, f"unknown action {str(name)[:40]!r} (one of {', '.join(ACTIONS)})")
        checked = ACTIONS[name].check(session, shop_id, f"{where} ({name})", item.get("value"), item)
        parsed.append({"action": name, **checked})
    return parsed
