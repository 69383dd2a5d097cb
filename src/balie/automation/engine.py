"""Running a shop's automation rules for an event (conditions.py says when a rule applies)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def run(session: Session, trigger: str, *, shop_id: int, conversation_id: int, message_id: int | None = None,
        chain: tuple[int, ...] = ()) -> None:
    """Runs the shop's enabled rules for `trigger` in order, each at most once for this event."""
