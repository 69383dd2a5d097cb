"""What the conversation column and the customer panel show, shaped for the templates:
the messages with their delivery state, the controls' current values, the customer with
their tags, every identity and their conversations on every channel, and the canned
replies filled in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from balie import clock
from balie.agents.models import Agent
from balie.agents.service import Actor
from balie.automation import rules as automation_rules
from balie.callbacks import service as callback_service
from balie.canned import service as canned_service
from balie.conversations import present
from balie.conversations import service as conversation_service
from balie.conversations.models import PRIORITIES, Conversation, Message
from balie.customers import service as customer_service
from balie.customers import tags as customer_tags
from balie.customers.models import Customer
from balie.follow_ups import service as follow_up_service
from balie.shops import service as shop_service
from balie.ui import i18n
from balie.ui import orders as orders_ui
from balie.ui.listing import CHANNEL_LABELS, FLAG_LABELS, PRIORITY_LABELS, SLA_LABELS, STATUS_LABELS
from balie.ui.routing import N_

IDENTITY_LABELS = {
    "email": N_("E-mail"), "phone": N_("Phone"), "visitor": N_("Chat visitor"),
    "social": N_("Social"), "external": N_("Shop customer id"),
}
CALLBACK_LABELS = {
    "open": N_("Call-back requested"), "reached": N_("Called back: reached"),
    "wrong_number": N_("Called back: wrong number"), "gave_up": N_("Called back: no answer, gave up"),
    "cancelled": N_("Call-back cancelled"),
}
TRY_LABELS = {"reached": N_("Reached"), "no_answer": N_("No answer"), "wrong_number": N_("Wrong number")}
RULE_OUTCOME_LABELS = {"fired": N_("Rule applied"), "skipped": N_("Rule not applied"), "failed": N_("Rule failed")}
RULE_RUNS_SHOWN = 20
# Statuses an agent picks directly; snoozing goes through its own control (it needs a time).
PICKABLE_STATUSES = ("open", "pending", "resolved", "closed")


def _message(message: Message, customer_name: str, agents: dict[int, Agent],
             files: dict[int, list[Any]], order_links: dict[str, str]) -> dict[str, Any]:
    _, _, author = present.author(message, customer_name, agents)
    return {
        # The customer's text with the order numbers the shop has linked to the order panel.
        "text_html": orders_ui.linked_text(message.text, order_links) if message.direction == "in" else None,
        "id": message.id,
        "direction": message.direction,
        "channel": message.channel,
        "author": author,
        "text": message.text,
        # E-mail: the whole body (quoted history, signature) folded away behind the new text.
        "full_text": message.full_text if message.full_text and message.full_text.strip() != message.text.strip()
        else None,
        "flags": message.flags.split() if message.flags else [],
        "raw_url": f"/ui/messages/{message.id}/raw" if message.raw_path else None,
        "created_at": message.created_at,
        "delivery_state": message.delivery_state,
        "delivery_error": message.delivery_error,
        "attachments": [
            {"id": item.id, "filename": item.filename, "size": item.size, "url": f"/ui/attachments/{item.id}"}
            for item in files.get(message.id, [])
        ],
    }


def _timeline(session: Session, actor: Actor, customer_id: int, current_id: int,
              suffix: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [
        {
            "type": "conversation", "at": conversation.last_activity_at, "id": conversation.id,
            "subject": conversation.subject, "channel": conversation.channel,
            "status": conversation.status, "current": conversation.id == current_id,
            "url": f"/inbox/c/{conversation.id}{suffix}",
        }
        for conversation in customer_service.conversations_of(session, shop_id=actor.shop_id,
                                                              customer_id=customer_id)
    ]
    for merge in customer_service.merge_events(session, shop_id=actor.shop_id, customer_id=customer_id):
        at = merge.get("at")
        if not isinstance(at, dt.datetime) or merge.get("survivor_id") != customer_id:
            continue
        entries.append({
            "type": "merge", "at": at, "merged_id": merge.get("merged_id"),
            "merged_name": str(merge.get("merged_name") or ""), "reason": str(merge.get("reason") or ""),
        })
    entries += callback_entries(session, actor.shop_id, customer_id)
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return entries


def callback_entries(session: Session, shop_id: int, customer_id: int) -> list[dict[str, Any]]:
    """The customer's call-backs in the timeline, each with the outcome of every try."""
    callbacks = callback_service.for_customer(session, shop_id, customer_id)
    history = callback_service.attempts_of(session, shop_id, [callback.id for callback in callbacks])
    now = clock.now()
    entries = []
    for callback in callbacks:
        tries = history.get(callback.id, [])
        entries.append({
            "type": "callback", "id": callback.id, "phone": callback.phone, "status": callback.status,
            "at": max([callback.created_at, *(attempt.created_at for attempt in tries)]),
            "due_at": callback.due_at, "overdue": callback_service.is_overdue(callback, now),
            "outcomes": [attempt.outcome for attempt in tries],
        })
    return entries


def block_context(customer: Customer, agents: dict[int, Agent]) -> dict[str, Any] | None:
    """A blocked or muted customer: the mode, since when, by whom (an agent of the shop, someone
    who no longer works here, or a rule), why."""
    if not customer.block_state:
        return None
    by = agents.get(customer.blocked_by_id) if customer.blocked_by_id is not None else None
    return {"mode": customer.block_state, "since": customer.blocked_at, "by": by.name if by else "",
            "by_former": by is None and customer.blocked_by_id is not None, "reason": customer.block_reason}


def customer_context(session: Session, actor: Actor, conversation: Conversation,
                     suffix: str, agents: dict[int, Agent]) -> dict[str, Any]:
    customer = customer_service.get(session, shop_id=actor.shop_id, customer_id=conversation.customer_id)
    identities = customer_service.identities(session, shop_id=actor.shop_id, customer_id=customer.id)
    return {
        "block": block_context(customer, agents),
        "can_block": actor.is_admin,
        "id": customer.id,
        "name": customer_service.display_name(customer, identities),
        "has_name": bool(customer.name),
        "tags": customer_tags.of_customer(session, shop_id=actor.shop_id, customer_id=customer.id),
        "identities": [{"kind": identity.kind, "value": identity.value} for identity in identities],
        "timeline": _timeline(session, actor, customer.id, conversation.id, suffix),
        "since": customer.created_at,
        "language": customer.language,
    }


def canned_replies(session: Session, actor: Actor, conversation: dict[str, Any],
                   customer_name: str, order_variables: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The shop's canned replies with this conversation's {{variables}} filled in ({{order.*}}:
    the order the conversation is about)."""
    replies = canned_service.list_for(session, actor.shop_id)
    if not replies:
        return []
    shop = shop_service.get(session, actor.shop_id)
    variables = canned_service.variables_for(
        customer_name=customer_name, agent_name=actor.name, shop_name=shop.name,
        conversation_id=conversation["id"], subject=conversation["subject"],
    ) | (order_variables or {})
    return [
        {"id": reply.id, "title": reply.title, "shortcut": reply.shortcut,
         "body": canned_service.render(reply.body, variables)}
        for reply in replies
    ]


def conversation_context(session: Session, actor: Actor, conversation_id: int,
                         suffix: str) -> dict[str, Any]:
    """Everything the conversation column and the customer panel need (the composer aside)."""
    conversation = conversation_service.get(session, actor, conversation_id)
    agents = present.agents_by_id(session, actor.shop_id)
    customer = customer_context(session, actor, conversation, suffix, agents)
    messages = conversation_service.messages(session, actor, conversation.id)
    files = conversation_service.attachments(session, actor, [message.id for message in messages])
    assignee = agents.get(conversation.assignee_id) if conversation.assignee_id else None
    follow_ups = follow_up_service.of_conversation(session, conversation, state="pending")
    orders = orders_ui.orders_context(session, actor.shop_id, customer["id"], customer["language"],
                                      [message.text for message in messages if message.direction == "in"])
    return {
        **orders,
        "conversation": {
            "id": conversation.id,
            "subject": conversation.subject,
            "channel": conversation.channel,
            "status": conversation.status,
            "priority": conversation.priority,
            "tags": conversation.tag_list,
            "assignee_id": conversation.assignee_id,
            "assignee": assignee.name if assignee else "",
            "mine": conversation.assignee_id == actor.agent_id,
            "snoozed_until": conversation.snoozed_until,
            "snooze_input": i18n.local_input(conversation.snoozed_until),
            "waiting_since": conversation.waiting_since,
            "sla": present.sla_out(conversation, clock.now()),
            "created_at": conversation.created_at,
            "base_url": f"/inbox/c/{conversation.id}",
            "suffix": suffix,
        },
        "messages": [_message(message, customer["name"], agents, files, orders["order_links"])
                     for message in messages],
        "customer": customer,
        "members": [{"id": agent.id, "name": agent.name, "me": agent.id == actor.agent_id}
                    for agent in agents.values()],
        "statuses": PICKABLE_STATUSES,
        "priorities": PRIORITIES,
        "status_labels": STATUS_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "sla_labels": {**SLA_LABELS, "met": N_("Kept")},
        "flag_labels": FLAG_LABELS,
        "identity_labels": IDENTITY_LABELS,
        "callback_labels": CALLBACK_LABELS,
        "try_labels": TRY_LABELS,
        "snooze_min": i18n.local_input(clock.now()),
        "follow_ups": [{"id": item.id, "due_at": item.due_at, "note": item.note, "agent_name": item.agent_name}
                       for item in follow_ups],
        "rule_runs": automation_rules.runs_of(session, actor.shop_id, conversation.id, limit=RULE_RUNS_SHOWN),
        "rule_outcome_labels": RULE_OUTCOME_LABELS,
    }
