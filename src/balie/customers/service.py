"""Customers: one person across channels, found by any of their identities, merged safely."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import ColumnElement, String, case, cast, delete, func, literal, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from balie import clock
from balie.audit import service as audit_service
from balie.callbacks.models import Callback
from balie.conversations.models import Conversation, Message
from balie.customers.models import IDENTITY_KINDS, Customer, CustomerTag, Identity
from balie.db import get_scoped, scoped
from balie.errors import Invalid
from balie.events import Event, publish_on_commit
from balie.inputs import check_line

DEFAULT_PHONE_REGION = "NL"


@dataclass(frozen=True)
class IdentityRef:
    kind: str
    value: str


def normalise(kind: str, value: str) -> IdentityRef:
    """One spelling per identity, so the same person is always found again."""
    if kind not in IDENTITY_KINDS:
        raise Invalid(f"unknown identity kind {kind!r}")
    value = check_line(value, kind).strip()
    if not value:
        raise Invalid(f"empty {kind}")
    if len(value) > 320:
        raise Invalid(f"{kind} is longer than 320 characters")
    if kind == "email":
        value = value.lower()
        local, _, domain = value.partition("@")
        if not local or "." not in domain or any(c.isspace() for c in value):
            raise Invalid(f"not an e-mail address: {value!r}")
    elif kind == "phone":
        try:
            number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException:
            raise Invalid(f"not a phone number: {value!r}") from None
        if not phonenumbers.is_possible_number(number):
            raise Invalid(f"not a phone number: {value!r}")
        value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return IdentityRef(kind, value)


def get(session: Session, *, shop_id: int, customer_id: int) -> Customer:
    """A customer; an id that was merged away leads to the customer it became."""
    customer = get_scoped(session, Customer, shop_id, customer_id)
    seen = {customer.id}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        customer = get_scoped(session, Customer, shop_id, customer.merged_into_id)
        seen.add(customer.id)
    return customer


def identities(session: Session, *, shop_id: int, customer_id: int) -> list[Identity]:
    query = scoped(Identity, shop_id).where(Identity.customer_id == customer_id).order_by(Identity.id)
    return list(session.scalars(query))


def resolve(
    session: Session, *, shop_id: int, refs: list[IdentityRef], name: str = "", lock: bool = False
) -> Customer:
    """The customer these identities belong to: found, created, or several merged into one.

    With `lock`, PostgreSQL locks the customers found until commit, so that one customer's
    messages are threaded one at a time (ingest's hot path: one query finds and locks)."""
    if not refs:
        raise Invalid("a customer needs at least one identity (email, phone, external_id, ...)")
    query = (
        select(Identity.kind, Identity.value, Customer)
        .join(Customer, Customer.id == Identity.customer_id)
        .where(Identity.shop_id == shop_id, tuple_(Identity.kind, Identity.value).in_(
            [(ref.kind, ref.value) for ref in refs]))
        .order_by(Customer.id)
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Customer)
    rows = session.execute(query).all()
    known = {(row.kind, row.value) for row in rows}
    # A customer merged away while we waited for its lock leads to the one it became.
    found = [row.Customer if row.Customer.merged_into_id is None
             else get(session, shop_id=shop_id, customer_id=row.Customer.id) for row in rows]
    customers = sorted({customer.id: customer for customer in found}.values(), key=lambda c: c.id)
    if not customers:
        customer = Customer(shop_id=shop_id, name=name.strip()[:200])
        session.add(customer)
        session.flush()
    else:
        customer = customers[0]  # the oldest survives a merge
        for other in customers[1:]:
            merge(session, shop_id=shop_id, survivor=customer, other=other, actor_agent_id=None,
                  reason="a message carried identities of both")
        if name and not customer.name:
            customer.name = name.strip()[:200]
    new = [Identity(shop_id=shop_id, customer_id=customer.id, kind=ref.kind, value=ref.value)
           for ref in refs if (ref.kind, ref.value) not in known]
    if new:
        session.add_all(new)
        session.flush()
    return customer


def merge(
    session: Session,
    *,
    shop_id: int,
    survivor: Customer,
    other: Customer,
    actor_agent_id: int | None,
    reason: str = "merged by an agent",
) -> Customer:
    """Move everything of `other` (identities, conversations, messages, call-backs, tags) onto
    `survivor`; `other` stays as a pointer to it."""
    if survivor.id == other.id:
        raise Invalid("a customer cannot be merged with itself")
    if session.get_bind().dialect.name == "postgresql":
        # Waits for messages being threaded to either customer, so that what they add moves too.
        session.execute(select(Customer.id).where(Customer.id.in_(sorted((survivor.id, other.id))))
                        .order_by(Customer.id).with_for_update())
        session.refresh(other)
    if other.merged_into_id is not None:
        raise Invalid(f"customer {other.id} was already merged into {other.merged_into_id}")
    moved_identities = session.execute(
        update(Identity)
        .where(Identity.shop_id == shop_id, Identity.customer_id == other.id)
        .values(customer_id=survivor.id)
    )
    moved_conversations = session.execute(
        update(Conversation)
        .where(Conversation.shop_id == shop_id, Conversation.customer_id == other.id)
        .values(customer_id=survivor.id)
    )
    session.execute(
        update(Message)
        .where(Message.shop_id == shop_id, Message.author_customer_id == other.id)
        .values(author_customer_id=survivor.id)
    )
    session.execute(
        update(Callback).where(Callback.shop_id == shop_id, Callback.customer_id == other.id)
        .values(customer_id=survivor.id)
    )
    # Tags move too; one that both had stays once, on the survivor. Nothing is lost to the
    # tag limit: it holds for adding (customers/tags.py), not for a merge.
    survivor_tags = aliased(CustomerTag)
    moved_tags = session.execute(
        update(CustomerTag)
        .where(CustomerTag.shop_id == shop_id, CustomerTag.customer_id == other.id,
               CustomerTag.tag.not_in(select(survivor_tags.tag).where(survivor_tags.customer_id == survivor.id)))
        .values(customer_id=survivor.id)
    )
    session.execute(delete(CustomerTag).where(CustomerTag.shop_id == shop_id, CustomerTag.customer_id == other.id))
    other.merged_into_id = survivor.id
    if not survivor.name and other.name:
        survivor.name = other.name
    data = {
        "survivor_id": survivor.id,
        "merged_id": other.id,
        "merged_name": other.name,
        "identities_moved": moved_identities.rowcount,  # type: ignore[attr-defined]
        "conversations_moved": moved_conversations.rowcount,  # type: ignore[attr-defined]
        "tags_moved": moved_tags.rowcount,  # type: ignore[attr-defined]
        "reason": reason,
        "at": clock.now().isoformat(),
    }
    for customer_id in (survivor.id, other.id):
        audit_service.record(
            session, shop_id=shop_id, actor_agent_id=actor_agent_id, action="customer.merged",
            object_type="customer", object_id=customer_id, data=data,
        )
    session.flush()
    session.expire_all()
    publish_on_commit(session, Event("customer.merged", shop_id, data))
    return survivor


def conversations_of(session: Session, *, shop_id: int, customer_id: int) -> list[Conversation]:
    query = (
        scoped(Conversation, shop_id)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
    )
    return list(session.scalars(query))


NAME_ORDER = ("email", "phone", "social", "external", "visitor")


@functools.cache  # built once: the expression is the same for every list
def display_name_column() -> ColumnElement[str]:
    """`name_from_identities` in SQL, for lists that show many customers: the name, or else
    the most recognisable identity, or else `#id`. Evaluated per row only when the name is
    empty (a CASE branch), so a page of named customers costs no lookups."""
    rank = case({kind: position for position, kind in enumerate(NAME_ORDER)}, value=Identity.kind)
    first_identity = (
        select(Identity.value)
        .where(Identity.customer_id == Customer.id, Identity.kind.in_(NAME_ORDER))
        .order_by(rank, Identity.id)
        .limit(1)
        .scalar_subquery()
    )
    fallback = func.coalesce(first_identity, literal("#") + cast(Customer.id, String))
    return case((Customer.name != "", Customer.name), else_=fallback)


def name_from_identities(customer_id: int, identities: list[tuple[str, str]]) -> str:
    """How a customer without a name is shown: their most recognisable identity."""
    for kind in NAME_ORDER:
        for identity_kind, value in identities:
            if identity_kind == kind:
                return value
    return f"#{customer_id}"


def display_name(customer: Customer, idents: list[Identity]) -> str:
    return customer.name or name_from_identities(customer.id, [(i.kind, i.value) for i in idents])


def merge_events(session: Session, *, shop_id: int, customer_id: int) -> list[dict[str, object]]:
    rows = audit_service.for_object(
        session, shop_id=shop_id, object_type="customer", object_id=customer_id
    )
    return [
        {**row.data, "type": row.action, "at": row.created_at, "actor_agent_id": row.actor_agent_id}
        for row in rows
        if row.action == "customer.merged"
    ]


def lookup(session: Session, *, shop_id: int, refs: list[IdentityRef]) -> Customer | None:
    for ref in refs:
        identity = session.scalars(
            select(Identity).where(
                Identity.shop_id == shop_id, Identity.kind == ref.kind, Identity.value == ref.value
            )
        ).first()
        if identity is not None:
            return get(session, shop_id=shop_id, customer_id=identity.customer_id)
    return None
