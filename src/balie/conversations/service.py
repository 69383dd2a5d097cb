"""Conversations: the inbox list, the changes agents make, replies and notes."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, delete, exists, or_, select
from sqlalchemy.orm import Session

from balie import clock, cursors, tagging, text
from balie.agents import service as agent_service
from balie.agents.models import Agent, Membership
from balie.agents.service import Actor
from balie.audit import service as audit_service
from balie.automation import queue as automation
from balie.conversations.models import (
    CHANNELS,
    PRIORITIES,
    STATUSES,
    Attachment,
    Conversation,
    ConversationTag,
    Message,
)
from balie.customers import service as customer_service
from balie.customers.models import Customer, Identity
from balie.db import get_scoped, scoped
from balie.errors import Invalid
from balie.events import Event, publish_on_commit
from balie.inputs import check_line, check_text, parse_id, valid_id
from balie.outbox import service as outbox_service
from balie.sla import service as sla_service

PAGE_SIZE = 25
MAX_SNOOZE = dt.timedelta(days=366)
MAX_PAGE_SIZE = 100
SORTS = ("recent", "waiting", "sla")
MAX_TAGS = 20


@dataclass
class Filters:
    status: str | None = "open"  # None or "all": every status
    assignee: str | None = None  # "me", "none" or an agent id
    channel: str | None = None
    tag: str | None = None
    query: str | None = None
    customer_id: int | None = None
    sort: str = "recent"
    cursor: str | None = None
    limit: int = PAGE_SIZE


@dataclass
class ListItem:
    conversation: Conversation
    customer_name: str
    # None when nobody is assigned, or the assignee no longer works in this shop.
    assignee_name: str | None = None
    assignee_email: str | None = None
    customer_block_state: str = ""  # "", "blocked" or "muted" (customers/blocking.py)


@dataclass
class Page:
    items: list[ListItem] = field(default_factory=list)
    next_cursor: str | None = None


# conversation, customer name, assignee name and e-mail, the customer's block state
_Listed = Select[Conversation, str, str | None, str | None, str]


def _apply_filters(query: _Listed, shop_id: int, actor: Actor, filters: Filters) -> _Listed:
    if filters.status not in (None, "all"):
        if filters.status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)} or all", code="invalid_filter")
        query = query.where(Conversation.status == filters.status)
    if filters.assignee:
        if filters.assignee == "me":
            query = query.where(Conversation.assignee_id == actor.agent_id)
        elif filters.assignee == "none":
            query = query.where(Conversation.assignee_id.is_(None))
        elif (agent_id := parse_id(filters.assignee)) is not None:
            query = query.where(Conversation.assignee_id == agent_id)
        else:
            raise Invalid("assignee must be me, none or an agent id", code="invalid_filter")
    if filters.channel:
        if filters.channel not in CHANNELS:
            raise Invalid(f"channel must be one of {', '.join(CHANNELS)}", code="invalid_filter")
        query = query.where(Conversation.channel == filters.channel)
    if filters.tag:
        query = query.where(
            exists().where(
                ConversationTag.shop_id == shop_id,
                ConversationTag.conversation_id == Conversation.id,
                ConversationTag.tag == tagging.spelling(filters.tag),
            )
        )
    if filters.customer_id is not None:
        if not valid_id(filters.customer_id):
            raise Invalid("customer_id is not an id", code="invalid_filter")
        query = query.where(Conversation.customer_id == filters.customer_id)
    if filters.query and filters.query.strip():
        needle = check_line(filters.query.strip()[:200], "search")
        if needle.startswith("#") and (number := parse_id(needle)) is not None:
            return query.where(Conversation.id == number)
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Conversation.subject.ilike(pattern, escape="\\"),
                Customer.name.ilike(pattern, escape="\\"),
                Conversation.customer_id.in_(
                    select(Identity.customer_id).where(
                        Identity.shop_id == shop_id, Identity.value.ilike(pattern, escape="\\")
                    )
                ),
                exists().where(
                    Message.conversation_id == Conversation.id,
                    Message.text.ilike(pattern, escape="\\"),
                ),
            )
        )
    return query


def list_conversations(session: Session, actor: Actor, filters: Filters) -> Page:
    shop_id = actor.shop_id
    if filters.sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}", code="invalid_filter")
    limit = max(1, min(filters.limit, MAX_PAGE_SIZE))
    # The names the list shows come along in the same trip: the customer's (or an identity of
    # theirs) and the assignee's, while they work in this shop; and whether the customer is
    # blocked or muted, from the customer row the name needs anyway.
    query: _Listed = (
        select(Conversation, customer_service.display_name_column(), Agent.name, Agent.email, Customer.block_state)
        .join(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(Membership, and_(Membership.shop_id == shop_id, Membership.agent_id == Conversation.assignee_id))
        .outerjoin(Agent, Agent.id == Membership.agent_id)
        .where(Conversation.shop_id == shop_id)
    )
    query = _apply_filters(query, shop_id, actor, filters)
    if filters.sort == "waiting":
        # Longest waiting first, then those nobody waits on; served by ix_conversation_waiting.
        waiting = Conversation.waiting_since
        if filters.cursor:
            since, row_id = cursors.decode(filters.cursor, nullable=True)
            if since is None:
                query = query.where(waiting.is_(None), Conversation.id > row_id)
            else:
                query = query.where(or_(waiting > since, and_(waiting == since, Conversation.id > row_id),
                                        waiting.is_(None)))
        query = query.order_by(waiting.asc().nulls_last(), Conversation.id.asc())
    elif filters.sort == "sla":
        # Soonest due first (breached ones are the earliest), then those without a running
        # timer; served by ix_conversation_sla.
        due = Conversation.sla_due_at
        if filters.cursor:
            since, row_id = cursors.decode(filters.cursor, nullable=True)
            if since is None:
                query = query.where(due.is_(None), Conversation.id > row_id)
            else:
                query = query.where(or_(due > since, and_(due == since, Conversation.id > row_id), due.is_(None)))
        query = query.order_by(due.asc().nulls_last(), Conversation.id.asc())
    else:
        if filters.cursor:
            when, row_id = cursors.decode(filters.cursor)
            query = query.where(
                or_(
                    Conversation.last_activity_at < when,
                    and_(Conversation.last_activity_at == when, Conversation.id < row_id),
                )
            )
        query = query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
    rows = session.execute(query.limit(limit + 1)).all()
    page = Page(items=[ListItem(*row) for row in rows[:limit]])
    if len(rows) > limit:
        last = page.items[-1].conversation
        sort_key = {"waiting": last.waiting_since, "sla": last.sla_due_at}.get(filters.sort, last.last_activity_at)
        page.next_cursor = cursors.encode(sort_key, last.id)
    return page


def get(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    return get_scoped(session, Conversation, actor.shop_id, conversation_id)


def messages(session: Session, actor: Actor, conversation_id: int) -> list[Message]:
    query = scoped(Message, actor.shop_id).where(Message.conversation_id == conversation_id)
    return list(session.scalars(query.order_by(Message.id)))


def attachments(session: Session, actor: Actor, message_ids: list[int]) -> dict[int, list[Attachment]]:
    result: dict[int, list[Attachment]] = {}
    if not message_ids:
        return result
    query = scoped(Attachment, actor.shop_id).where(Attachment.message_id.in_(message_ids))
    for attachment in session.scalars(query.order_by(Attachment.id)):
        result.setdefault(attachment.message_id, []).append(attachment)
    return result


@dataclass
class Changes:
    status: str | None = None
    assignee_id: int | None = None
    unassign: bool = False
    priority: str | None = None
    tags: list[str] | None = None
    snoozed_until: dt.datetime | None = None


def update(session: Session, actor: Actor, conversation_id: int, changes: Changes) -> Conversation:
    conversation = get(session, actor, conversation_id)
    before = _snapshot(conversation)
    now = clock.now()
    if changes.priority is not None:
        if changes.priority not in PRIORITIES:
            raise Invalid(f"priority must be one of {', '.join(PRIORITIES)}", code="invalid_priority")
        conversation.priority = changes.priority
    if changes.unassign:
        conversation.assignee_id = None
    elif changes.assignee_id is not None:
        agent_service.member(session, shop_id=actor.shop_id, agent_id=changes.assignee_id)
        conversation.assignee_id = changes.assignee_id
    if changes.tags is not None:
        _set_tags(session, conversation, tagging.normalise_all(changes.tags, limit=MAX_TAGS, holder="a conversation"))
    if changes.snoozed_until is not None:
        if changes.snoozed_until.tzinfo is None:
            raise Invalid("snooze_until needs a timezone (for example 2026-12-01T09:00:00+01:00)",
                          code="invalid_snooze")
        if changes.snoozed_until <= now:
            raise Invalid("snooze_until must be in the future", code="invalid_snooze")
        if changes.snoozed_until > now + MAX_SNOOZE:
            raise Invalid("snooze_until is at most a year ahead", code="invalid_snooze")
        if changes.status not in (None, "snoozed"):
            raise Invalid("snooze_until goes with status snoozed", code="invalid_snooze")
        conversation.status = "snoozed"
        conversation.snoozed_until = changes.snoozed_until.astimezone(dt.UTC)
    elif changes.status is not None:
        if changes.status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", code="invalid_status")
        if changes.status == "snoozed":
            raise Invalid("snoozing needs snooze_until", code="invalid_snooze")
        _set_status(conversation, changes.status, now)
    sla_service.on_priority(session, conversation, before["priority"], now)
    sla_service.on_status(session, conversation, before["status"], now)
    after = _snapshot(conversation)
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changed:
        audit_service.record(
            session, shop_id=actor.shop_id, actor_agent_id=actor.agent_id,
            action="conversation.updated", object_type="conversation", object_id=conversation.id,
            data=changed,
        )
        publish_on_commit(
            session,
            Event("conversation.updated", actor.shop_id,
                  {"conversation_id": conversation.id, "changed": sorted(changed)}),
        )
        # The rules for conversation_updated run after this commits, in a worker.
        automation.conversation_changed(session, shop_id=actor.shop_id, conversation_id=conversation.id,
                                        changed=sorted(changed))
    session.flush()
    return conversation


def _set_status(conversation: Conversation, status: str, now: dt.datetime) -> None:
    conversation.status = status
    conversation.snoozed_until = None
    if status in ("resolved", "closed"):
        conversation.resolved_at = now
        conversation.waiting_since = None
    else:
        conversation.resolved_at = None


def _set_tags(session: Session, conversation: Conversation, tags: list[str]) -> None:
    session.execute(
        delete(ConversationTag).where(
            ConversationTag.shop_id == conversation.shop_id,
            ConversationTag.conversation_id == conversation.id,
        )
    )
    for tag in tags:
        session.add(ConversationTag(shop_id=conversation.shop_id, conversation_id=conversation.id, tag=tag))
    conversation.tags = " ".join(tags)


def _snapshot(conversation: Conversation) -> dict[str, Any]:
    return {
        "status": conversation.status,
        "assignee_id": conversation.assignee_id,
        "priority": conversation.priority,
        "tags": conversation.tags,
        "snoozed_until": conversation.snoozed_until.isoformat() if conversation.snoozed_until else None,
    }


def reply(
    session: Session,
    actor: Actor,
    conversation_id: int,
    body: str,
    *,
    status: str | None = "pending",
) -> Message:
    """Store the reply and its outbox entry together; the dispatcher delivers it after commit."""
    return _add_agent_message(session, actor, conversation_id, body, direction="out", status=status)


def note(session: Session, actor: Actor, conversation_id: int, body: str) -> Message:
    """An internal note: only agents see it, nothing is sent."""
    return _add_agent_message(session, actor, conversation_id, body, direction="note", status=None)


def _add_agent_message(
    session: Session, actor: Actor, conversation_id: int, body: str, *, direction: str,
    status: str | None,
) -> Message:
    check_text(body)
    body = body.strip()
    if not body:
        raise Invalid("the message is empty", code="empty_message")
    if status is not None and status not in ("open", "pending", "resolved", "closed"):
        raise Invalid("status after a reply must be open, pending, resolved or closed",
                      code="invalid_status")
    conversation = get(session, actor, conversation_id)
    now = clock.now()
    message = Message(
        shop_id=actor.shop_id,
        conversation_id=conversation.id,
        direction=direction,
        channel=conversation.channel,
        author_agent_id=actor.agent_id,
        text=body,
        html=text.text_to_html(body),
        delivery_state="queued" if direction == "out" else None,
        # Our own id for what we send (for e-mail: its Message-ID), known before it goes out,
        # so that the customer's answer threads back here whenever it comes.
        external_id=f"<{secrets.token_hex(16)}@{conversation.channel}.balie>" if direction == "out" else None,
        created_at=now,
    )
    session.add(message)
    session.flush()
    conversation.message_count = Conversation.message_count + 1  # in SQL: concurrent writers all count
    if direction == "out":
        outbox_service.enqueue(session, message)
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        conversation.waiting_since = None
        conversation.last_activity_at = now
        conversation.preview = text.preview(body)
        sla_service.on_reply(session, conversation, now)
        if status is not None and status != conversation.status:
            before = conversation.status
            _set_status(conversation, status, now)
            sla_service.on_status(session, conversation, before, now)
            audit_service.record(
                session, shop_id=actor.shop_id, actor_agent_id=actor.agent_id,
                action="conversation.updated", object_type="conversation", object_id=conversation.id,
                data={"status": [before, status]},
            )
            automation.conversation_changed(session, shop_id=actor.shop_id, conversation_id=conversation.id,
                                            changed=["status"])
    session.flush()
    publish_on_commit(
        session,
        Event("message.created", actor.shop_id,
              {"conversation_id": conversation.id, "message_id": message.id, "direction": direction}),
    )
    return message
