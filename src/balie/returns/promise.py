"""The refund promise on the schedule, like an SLA timer: a "due soon" job and an "overdue" job
(balie.scheduling), written in the transaction that opens the case. jobs.py runs them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from balie.returns.models import ReturnCase
from balie.scheduling import service as scheduling_service

DUE_SOON = "return.refund_due_soon"
OVERDUE = "return.refund_overdue"


def schedule_refund(session: Session, case: ReturnCase) -> None:
    scheduling_service.schedule(session, shop_id=case.shop_id, kind=DUE_SOON, ref_id=case.id,
                                due_at=case.refund_warn_at)
    scheduling_service.schedule(session, shop_id=case.shop_id, kind=OVERDUE, ref_id=case.id,
                                due_at=case.refund_due_at)
