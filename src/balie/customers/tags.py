"""Customer tags: what agents should know about a customer at a glance ("vip", "wholesale"),
and what automation rules check with their `customer_tags` condition.

Spelled and checked as conversation tags (balie/tagging.py), so a rule's condition finds
them however they were typed. Adding a tag the customer has, or removing one they do not
have, changes nothing and is not audited; every real change is, with who made it. A merge
moves the absorbed customer's tags to the survivor (customers/service.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from balie import tagging
from balie.audit import service as audit_service
from balie.customers import service as customer_service
from balie.customers.models import Customer, CustomerTag
from balie.errors import Invalid
from balie.events import Event, publish_on_commit

MAX_TAGS = 20


@dataclass(frozen=True)
class TagChange:
    customer: Customer  # the customer changed: the survivor, for an id that was merged away
    tag: str  # as stored
    changed: bool  # False: the customer already had it (add) or did not have it (remove)


def of_customer(session: Session, *, shop_id: int, customer_id: int) -> list[str]:
    """The customer's tags in alphabetical order (one query, on the unique index)."""
    query = (select(CustomerTag.tag)
             .where(CustomerTag.shop_id == shop_id, CustomerTag.customer_id == customer_id)
             .order_by(CustomerTag.tag))
    return list(session.scalars(query))


def add(session: Session, *, shop_id: int, customer_id: int, tag: str, actor_agent_id: int | None) -> TagChange:
    """Tags the customer; `too_many_tags` when they have MAX_TAGS already."""
    tag = tagging.normalise(tag)  # before any query: a bad tag costs nothing
    customer = _locked(session, shop_id=shop_id, customer_id=customer_id)
    present = of_customer(session, shop_id=shop_id, customer_id=customer.id)
    if tag in present:
        return TagChange(customer, tag, changed=False)
    if len(present) >= MAX_TAGS:
        raise Invalid(f"a customer has at most {MAX_TAGS} tags; remove one first", code="too_many_tags")
    session.add(CustomerTag(shop_id=shop_id, customer_id=customer.id, tag=tag))
    _changed(session, customer, actor_agent_id, "customer.tagged", tag, sorted([*present, tag]))
    return TagChange(customer, tag, changed=True)


def remove(session: Session, *, shop_id: int, customer_id: int, tag: str,
           actor_agent_id: int | None) -> TagChange:
    """Takes the tag off the customer, if they have it."""
    tag = tagging.normalise(tag)
    customer = _locked(session, shop_id=shop_id, customer_id=customer_id)
    removed = session.execute(delete(CustomerTag).where(
        CustomerTag.shop_id == shop_id, CustomerTag.customer_id == customer.id, CustomerTag.tag == tag))
    if not removed.rowcount:  # type: ignore[attr-defined]
        return TagChange(customer, tag, changed=False)
    _changed(session, customer, actor_agent_id, "customer.untagged", tag,
             of_customer(session, shop_id=shop_id, customer_id=customer.id))
    return TagChange(customer, tag, changed=True)


def _locked(session: Session, *, shop_id: int, customer_id: int) -> Customer:
    """The customer (the survivor, for an id merged away), on PostgreSQL locked until commit: one
    customer's tags change one at a time, so the limit holds, two agents adding the same tag both
    succeed, and a tag never lands on a customer that a merge is taking away."""
    customer = customer_service.get(session, shop_id=shop_id, customer_id=customer_id)
    if session.get_bind().dialect.name != "postgresql":
        return customer  # SQLite has one writer at a time
    seen: set[int] = set()
    while customer.id not in seen:
        seen.add(customer.id)
        locked = session.scalars(select(Customer).where(Customer.shop_id == shop_id, Customer.id == customer.id)
                                 .with_for_update().execution_options(populate_existing=True)).one()
        if locked.merged_into_id is None:
            return locked
        # Merged away while we waited for the lock: the survivor has the tags now.
        customer = customer_service.get(session, shop_id=shop_id, customer_id=locked.merged_into_id)
    return customer


def _changed(session: Session, customer: Customer, actor_agent_id: int | None, action: str, tag: str,
             tags: list[str]) -> None:
    audit_service.record(session, shop_id=customer.shop_id, actor_agent_id=actor_agent_id, action=action,
                         object_type="customer", object_id=customer.id, data={"tag": tag})
    session.flush()
    publish_on_commit(session, Event("customer.updated", customer.shop_id,
                                     {"customer_id": customer.id, "tags": tags}))
