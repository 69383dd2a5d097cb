"""/api/v1/customers: a customer with every identity and a timeline across channels."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from sqlalchemy.orm import Session

from balie.agents.service import Actor
from balie.callbacks import api as callback_api
from balie.conversations import present
from balie.customers import service
from balie.customers.schemas import CustomerOut, IdentityOut, MergeIn, TimelineEntry
from balie.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1", tags=["customers"])


def customer_out(db: Session, actor: Actor, customer_id: int) -> CustomerOut:
    customer = service.get(db, shop_id=actor.shop_id, customer_id=customer_id)
    idents = service.identities(db, shop_id=actor.shop_id, customer_id=customer.id)
    name = service.display_name(customer, idents)
    agents = present.agents_by_id(db, actor.shop_id)
    timeline = [
        TimelineEntry(type="conversation", at=c.last_activity_at,
                      conversation=present.conversation_out(c, name, present.agent_ref(agents, c.assignee_id)))
        for c in service.conversations_of(db, shop_id=actor.shop_id, customer_id=customer.id)
    ]
    for merge in service.merge_events(db, shop_id=actor.shop_id, customer_id=customer.id):
        at = merge["at"]
        timeline.append(TimelineEntry(
            type="merge", at=at if isinstance(at, dt.datetime) else customer.created_at,
            merged_id=int(str(merge["merged_id"])), merged_name=str(merge.get("merged_name") or ""),
            reason=str(merge.get("reason") or ""),
        ))
    timeline += callback_api.timeline_entries(db, actor.shop_id, customer.id)
    timeline.sort(key=lambda entry: entry.at, reverse=True)
    return CustomerOut(
        id=customer.id, name=customer.name, display_name=name,
        identities=[IdentityOut(kind=i.kind, value=i.value) for i in idents],
        timeline=timeline, created_at=customer.created_at,
    )


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: int, db: DB, actor: ApiActor) -> CustomerOut:
    return customer_out(db, actor, customer_id)


@router.post("/customers/{customer_id}/merge", response_model=CustomerOut)
def merge_customer(customer_id: int, body: MergeIn, db: DB, actor: ApiActor) -> CustomerOut:
    """Moves every identity, conversation and message of `other_id` onto this customer."""
    survivor = service.get(db, shop_id=actor.shop_id, customer_id=customer_id)
    other = service.get(db, shop_id=actor.shop_id, customer_id=body.other_id)
    service.merge(db, shop_id=actor.shop_id, survivor=survivor, other=other,
                  actor_agent_id=actor.agent_id)
    db.commit()
    return customer_out(db, actor, survivor.id)
