"""/api/v1/customers: a customer with every identity, their tags and a timeline across channels."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from balie.agents.service import Actor
from balie.callbacks import api as callback_api
from balie.conversations import present
from balie.customers import blocking, service
from balie.customers import tags as customer_tags
from balie.customers.models import Customer
from balie.customers.schemas import BlockIn, BlockOut, CustomerOut, IdentityOut, MergeIn, TagIn, TimelineEntry
from balie.errors import Forbidden
from balie.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1", tags=["customers"])


def customer_out(db: Session, actor: Actor, customer_id: int) -> CustomerOut:
    customer = service.get(db, shop_id=actor.shop_id, customer_id=customer_id)
    idents = service.identities(db, shop_id=actor.shop_id, customer_id=customer.id)
    name = service.display_name(customer, idents)
    agents = present.agents_by_id(db, actor.shop_id)
    timeline = [
        TimelineEntry(type="conversation", at=c.last_activity_at,
                      conversation=present.conversation_out(c, name, present.agent_ref(agents, c.assignee_id),
                                                            customer_block_state=customer.block_state))
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
        id=customer.id, name=customer.name, display_name=name, language=customer.language or None,
        block=block_out(customer, agents),
        tags=customer_tags.of_customer(db, shop_id=actor.shop_id, customer_id=customer.id),
        identities=[IdentityOut(kind=i.kind, value=i.value) for i in idents],
        timeline=timeline, created_at=customer.created_at,
    )


def block_out(customer: Customer, agents: present.Agents) -> BlockOut | None:
    if not customer.block_state:
        return None
    by = agents.get(customer.blocked_by_id) if customer.blocked_by_id is not None else None
    return BlockOut(mode=customer.block_state,  # type: ignore[arg-type]
                    since=customer.blocked_at, by_agent_id=customer.blocked_by_id,
                    by_agent_name=by.name if by else None, reason=customer.block_reason)


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only a shop admin can block or mute a customer", code="admin_only")


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


@router.post("/customers/{customer_id}/block", response_model=CustomerOut)
def block_customer(customer_id: int, body: BlockIn, db: DB, actor: ApiActor) -> CustomerOut:
    """Blocks or mutes the customer (admins): their messages are kept but start nothing automatic."""
    _admin(actor)
    customer = blocking.block(db, shop_id=actor.shop_id, customer_id=customer_id, mode=body.mode,
                              actor_agent_id=actor.agent_id, reason=body.reason)
    db.commit()
    return customer_out(db, actor, customer.id)


@router.delete("/customers/{customer_id}/block", response_model=CustomerOut)
def unblock_customer(customer_id: int, db: DB, actor: ApiActor) -> CustomerOut:
    """Lifts the block or mute (admins); 409 `not_blocked` when there is none."""
    _admin(actor)
    customer = blocking.unblock(db, shop_id=actor.shop_id, customer_id=customer_id, actor_agent_id=actor.agent_id)
    db.commit()
    return customer_out(db, actor, customer.id)


@router.post("/customers/{customer_id}/tags", response_model=CustomerOut, status_code=201,
             responses={200: {"model": CustomerOut, "description": "the customer already had the tag"}})
def add_tag(customer_id: int, body: TagIn, response: Response, db: DB, actor: ApiActor) -> CustomerOut:
    """Tags the customer (any agent): 201 when added, 200 when they already had it."""
    change = customer_tags.add(db, shop_id=actor.shop_id, customer_id=customer_id, tag=body.tag,
                               actor_agent_id=actor.agent_id)
    db.commit()
    if not change.changed:
        response.status_code = 200
    return customer_out(db, actor, change.customer.id)


# `:path`, so that a tag with a "/" in it ("retour/ruil") can be removed too.
@router.delete("/customers/{customer_id}/tags/{tag:path}", status_code=204)
def remove_tag(customer_id: int, tag: str, db: DB, actor: ApiActor) -> Response:
    """Takes the tag off the customer; 204 also when they did not have it (it is gone either way)."""
    customer_tags.remove(db, shop_id=actor.shop_id, customer_id=customer_id, tag=tag, actor_agent_id=actor.agent_id)
    db.commit()
    return Response(status_code=204)
