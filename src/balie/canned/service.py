"""Canned replies and the {{variables}} filled into them."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from balie.canned.models import CannedReply
from balie.db import get_scoped, scoped
from balie.errors import Invalid

VARIABLE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")


def create(session: Session, *, shop_id: int, title: str, shortcut: str, body: str) -> CannedReply:
    if not title.strip() or not body.strip():
        raise Invalid("a canned reply needs a title and a body")
    reply = CannedReply(shop_id=shop_id, title=title.strip()[:200],
                        shortcut=shortcut.strip().lower()[:64], body=body)
    session.add(reply)
    session.flush()
    return reply


def list_for(session: Session, shop_id: int) -> list[CannedReply]:
    return list(session.scalars(scoped(CannedReply, shop_id).order_by(CannedReply.title)))


def get(session: Session, *, shop_id: int, reply_id: int) -> CannedReply:
    return get_scoped(session, CannedReply, shop_id, reply_id)


def render(body: str, variables: dict[str, str]) -> str:
    """Fill {{customer.first_name}} and friends; an unknown variable is left empty."""
    return VARIABLE.sub(lambda match: variables.get(match.group(1), ""), body)


def variables_for(*, customer_name: str, agent_name: str, shop_name: str, conversation_id: int,
                  subject: str) -> dict[str, str]:
    first = customer_name.split()[0] if customer_name.strip() and "@" not in customer_name else ""
    return {
        "customer.name": customer_name,
        "customer.first_name": first,
        "agent.name": agent_name,
        "agent.first_name": agent_name.split()[0] if agent_name.strip() else "",
        "shop.name": shop_name,
        "conversation.id": str(conversation_id),
        "conversation.subject": subject,
    }
