"""Turning rows into API shapes, with the names looked up once per response."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from balie import clock
from balie.agents import service as agent_service
from balie.agents.models import Agent
from balie.agents.service import Actor
from balie.commerce import mentions
from balie.conversations import service
from balie.conversations.models import Attachment, Conversation, Message
from balie.conversations.schemas import (
    AgentRef,
    AttachmentOut,
    ConversationDetail,
    ConversationOut,
    MessageOut,
    SlaOut,
)
from balie.conversations.service import ListItem
from balie.customers import service as customer_service
from balie.sla import service as sla_service

Agents = dict[int, Agent]


def agents_by_id(session: Session, shop_id: int) -> Agents:
    return {agent.id: agent for agent in agent_service.members(session, shop_id)}


def agent_ref(agents: Agents, agent_id: int | None) -> AgentRef | None:
    agent = agents.get(agent_id) if agent_id is not None else None
    return AgentRef(id=agent.id, name=agent.name, email=agent.email) if agent else None


def listed_assignee(item: ListItem) -> AgentRef | None:
    """The assignee of a conversation in a list, from the names the list query brought."""
    assignee_id = item.conversation.assignee_id
    if assignee_id is None or item.assignee_name is None:
        return None
    return AgentRef(id=assignee_id, name=item.assignee_name, email=item.assignee_email or "")


def sla_out(conversation: Conversation, now: dt.datetime) -> SlaOut:
    """From the conversation's columns alone: a list of them costs no query more."""
    return SlaOut(
        first_response_due_at=conversation.first_response_due_at,
        next_response_due_at=conversation.next_response_due_at,
        resolution_due_at=conversation.resolution_due_at,
        state=sla_service.state_of(conversation, now),  # type: ignore[arg-type]
        calendar_fallback=conversation.sla_calendar_fallback,
    )


def conversation_out(conversation: Conversation, customer_name: str, assignee: AgentRef | None,
                     now: dt.datetime | None = None, *, customer_block_state: str = "") -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        status=conversation.status,  # type: ignore[arg-type]
        channel=conversation.channel,
        subject=conversation.subject,
        customer_id=conversation.customer_id,
        customer_name=customer_name,
        customer_block_state=customer_block_state or None,  # type: ignore[arg-type]
        assignee=assignee,
        team_id=conversation.team_id,
        tags=conversation.tag_list,
        priority=conversation.priority,  # type: ignore[arg-type]
        preview=conversation.preview,
        message_count=conversation.message_count,
        snoozed_until=conversation.snoozed_until,
        waiting_since=conversation.waiting_since,
        first_response_at=conversation.first_response_at,
        last_activity_at=conversation.last_activity_at,
        created_at=conversation.created_at,
        sla=sla_out(conversation, now or clock.now()),
    )


def author(message: Message, customer_name: str, agents: Agents) -> tuple[str, int | None, str]:
    """(kind, id, name) of who wrote a message: an agent, the customer, or Balie itself."""
    if message.author_agent_id is not None:
        agent = agents.get(message.author_agent_id)
        return "agent", message.author_agent_id, agent.name if agent else ""
    if message.author_customer_id is not None:
        return "customer", message.author_customer_id, customer_name
    return "system", None, "Balie"


def message_out(
    message: Message, customer_name: str, agents: Agents, files: list[Attachment]
) -> MessageOut:
    author_type, author_id, author_name = author(message, customer_name, agents)
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        direction=message.direction,  # type: ignore[arg-type]
        channel=message.channel,
        text=message.text,
        full_text=message.full_text if message.full_text is not None else message.text,
        html=message.html,
        raw_url=f"/api/v1/messages/{message.id}/raw" if message.raw_path else None,
        flags=message.flags.split() if message.flags else [],
        author_type=author_type,  # type: ignore[arg-type]
        author_id=author_id,
        author_name=author_name,
        delivery_state=message.delivery_state,
        delivery_error=message.delivery_error,
        attachments=[
            AttachmentOut(id=f.id, filename=f.filename, content_type=f.content_type, size=f.size,
                          url=f"/api/v1/attachments/{f.id}")
            for f in files
        ],
        created_at=message.created_at,
    )


def detail(session: Session, actor: Actor, conversation: Conversation) -> ConversationDetail:
    agents = agents_by_id(session, actor.shop_id)
    customer = customer_service.get(session, shop_id=actor.shop_id, customer_id=conversation.customer_id)
    name = customer_service.display_name(
        customer, customer_service.identities(session, shop_id=actor.shop_id, customer_id=customer.id))
    rows = service.messages(session, actor, conversation.id)
    files = service.attachments(session, actor, [m.id for m in rows])
    base = conversation_out(conversation, name, agent_ref(agents, conversation.assignee_id),
                            customer_block_state=customer.block_state)
    return ConversationDetail(
        **base.model_dump(),
        messages=[message_out(m, name, agents, files.get(m.id, [])) for m in rows],
        # One query, and only when a message names something that looks like an order number.
        order_numbers=mentions.recognise(session, actor.shop_id, [m.text for m in rows if m.direction == "in"]),
    )
