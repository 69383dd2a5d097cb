"""Blocked and muted customers: their messages are stored and shown, and cause nothing else.

Both stop everything automatic that a customer's message would start: no acknowledgement,
no automation rules, no SLA timers (conversations/received.py stops at `muted`). They differ
in what agents see:

- muted: silently nothing automatic. For a customer whose mails need no answer (a mailing
  list, a supplier's notifications). Agents see a quiet note on the customer panel.
- blocked: the shop decided to stop answering this person (abuse, the same complaint for
  months). Agents see a warning banner on the conversation and above the reply box, so that
  nobody answers by accident.

A blocked customer can still be answered: blocking is a decision of the shop, not a wall.
Every change is in the audit trail with who did it and why.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie import clock
from balie.audit import service as audit_service
from balie.customers import service as customer_service
from balie.customers.models import BLOCK_STATES, Customer
from balie.errors import Conflict, Invalid
from balie.events import Event, publish_on_commit
from balie.inputs import check_line

MAX_REASON = 500


def muted(session: Session, shop_id: int, customer_id: int) -> bool:
    """True when the shop blocked or muted this customer (no acknowledgement, rules or SLA)."""
    state = session.scalar(select(Customer.block_state).where(Customer.shop_id == shop_id,
                                                              Customer.id == customer_id))
    return bool(state)


def clean_reason(reason: str | None) -> str:
    reason = " ".join(check_line(reason or "", "reason").split())
    if len(reason) > MAX_REASON:
        raise Invalid(f"the reason is at most {MAX_REASON} characters", code="invalid_reason")
    return reason


def block(session: Session, *, shop_id: int, customer_id: int, mode: str, actor_agent_id: int | None,
          reason: str = "") -> Customer:
    """Blocks or mutes a customer; the same mode and reason again changes nothing (and is not
    audited again), another mode or reason replaces the earlier one."""
    if mode not in BLOCK_STATES:
        raise Invalid(f"mode must be one of {', '.join(BLOCK_STATES)}", code="invalid_mode")
    reason = clean_reason(reason)
    customer = customer_service.get(session, shop_id=shop_id, customer_id=customer_id)
    if customer.block_state == mode and customer.block_reason == reason:
        return customer
    before = customer.block_state
    if before != mode:
        customer.blocked_at = clock.now()
        customer.blocked_by_id = actor_agent_id
    customer.block_state, customer.block_reason = mode, reason
    _changed(session, customer, actor_agent_id, "customer.blocked",
             {"mode": mode, "before": before or None, "reason": reason})
    return customer


def unblock(session: Session, *, shop_id: int, customer_id: int, actor_agent_id: int | None) -> Customer:
    """Lifts a block or mute; a customer who is neither is a conflict (someone else was first)."""
    customer = customer_service.get(session, shop_id=shop_id, customer_id=customer_id)
    if not customer.block_state:
        raise Conflict("this customer is not blocked or muted", code="not_blocked")
    before = customer.block_state
    customer.block_state, customer.block_reason = "", ""
    customer.blocked_at = customer.blocked_by_id = None
    _changed(session, customer, actor_agent_id, "customer.unblocked", {"before": before})
    return customer


def _changed(session: Session, customer: Customer, actor_agent_id: int | None, action: str,
             data: dict[str, object]) -> None:
    audit_service.record(session, shop_id=customer.shop_id, actor_agent_id=actor_agent_id, action=action,
                         object_type="customer", object_id=customer.id, data=data)
    session.flush()
    publish_on_commit(session, Event("customer.updated", customer.shop_id,
                                     {"customer_id": customer.id, "block_state": customer.block_state}))
