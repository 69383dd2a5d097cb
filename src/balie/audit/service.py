"""Record who changed what; rows are never updated or deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from balie.audit.models import AuditEvent


def record(
    session: Session,
    *,
    shop_id: int,
    actor_agent_id: int | None,
    action: str,
    object_type: str,
    object_id: int,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    row = AuditEvent(
        shop_id=shop_id,
        actor_agent_id=actor_agent_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=data or {},
    )
    session.add(row)
    return row


def for_object(session: Session, *, shop_id: int, object_type: str, object_id: int) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.shop_id == shop_id,
            AuditEvent.object_type == object_type,
            AuditEvent.object_id == object_id,
        )
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(query))


class AppendOnly(Exception):
    pass


@event.listens_for(AuditEvent, "before_update")
def _no_update(*_args: object) -> None:
    raise AppendOnly("the audit trail is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _no_delete(*_args: object) -> None:
    raise AppendOnly("the audit trail is append-only")
