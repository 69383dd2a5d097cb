"""The refund promise on the schedule: "due soon" three days before the end of the due day,
"overdue" when it has passed; each tells agents once in the case's conversation, and a case
refunded in time stays quiet. A frozen clock, the worker's own handlers."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from returns_support import post_order, post_return
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.audit.models import AuditEvent
from balie.conversations.models import Message
from balie.returns import jobs
from balie.scheduling import runner
from balie.scheduling.models import DueJob
from balie.worker import HANDLERS
from factories import Tenant


def notes(factory: sessionmaker[Session], conversation_id: int) -> list[str]:
    """The notes after the one the confirmation leaves (where the case is, what is due)."""
    with factory() as session:
        found = list(session.scalars(select(Message.text).where(Message.conversation_id == conversation_id,
                                                                Message.direction == "note").order_by(Message.id)))
    assert found[0].startswith(("Herroeping van bestelling 10023 vastgelegd", "Withdrawal from order 10023"))
    return found[1:]


def state(client: TestClient, tenant: Tenant, case_id: int) -> str:
    return client.get(f"/api/v1/returns/{case_id}", headers=tenant.headers).json()["refund"]["state"]  # type: ignore[no-any-return]


def test_due_soon_then_overdue_each_once(client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
                                         frozen_clock: clock.FrozenClock) -> None:
    assert HANDLERS[jobs.DUE_SOON] is jobs.fire and HANDLERS[jobs.OVERDUE] is jobs.fire
    post_order(client, tenant)
    case = post_return(client, tenant, send_confirmation=True).json()  # due Tuesday 8 December
    with factory() as session:
        found = session.scalars(select(DueJob).where(DueJob.ref_id == case["id"]))
        moments = sorted((job.kind, job.due_at) for job in found)
    assert moments == [(jobs.DUE_SOON, dt.datetime(2026, 12, 5, 23, tzinfo=dt.UTC)),
                       (jobs.OVERDUE, dt.datetime(2026, 12, 8, 23, tzinfo=dt.UTC))]

    runner.run_due(factory, HANDLERS)
    assert notes(factory, case["conversation_id"]) == [] and state(client, tenant, case["id"]) == "on_track"

    frozen_clock.current = dt.datetime(2026, 12, 5, 23, 0, 1, tzinfo=dt.UTC)
    runner.run_due(factory, HANDLERS)
    runner.run_due(factory, HANDLERS)
    assert notes(factory, case["conversation_id"]) == [
        "Terugbetaling herroeping bestelling 10023 (€\u00a0935,95) moet uiterlijk dinsdag 8 december 2026 gedaan "
        "zijn. De artikelen zijn nog niet terug en er is geen verzendbewijs: wachten mag tot een van beide er is."]
    assert state(client, tenant, case["id"]) == "due_soon"

    client.post(f"/api/v1/returns/{case['id']}/shipment-proof", json={}, headers=tenant.headers)
    frozen_clock.current = dt.datetime(2026, 12, 8, 23, 0, 0, tzinfo=dt.UTC)
    runner.run_due(factory, HANDLERS)
    assert notes(factory, case["conversation_id"])[1:] == [
        "Terugbetaling herroeping bestelling 10023 (€\u00a0935,95) is te laat: uiterlijk dinsdag 8 december 2026."]
    assert state(client, tenant, case["id"]) == "breached"
    with factory() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "return",
                                                                       AuditEvent.object_id == case["id"])))
    assert actions.count(jobs.DUE_SOON) == 1 and actions.count(jobs.OVERDUE) == 1


def test_a_refund_in_time_meets_the_promise_and_the_jobs_stay_quiet(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    post_order(client, tenant)
    case = post_return(client, tenant, send_confirmation=True, language="en").json()
    frozen_clock.advance(days=2)
    paid = client.post(f"/api/v1/returns/{case['id']}/refund", json={"amount": "935.95", "reference": "re_9"},
                       headers=tenant.headers)
    assert paid.json()["refund"]["state"] == "met"

    frozen_clock.advance(days=30)
    runner.run_due(factory, HANDLERS)
    assert notes(factory, case["conversation_id"]) == []
    assert state(client, tenant, case["id"]) == "met"
    with factory() as session:
        assert {job.state for job in session.scalars(select(DueJob).where(DueJob.ref_id == case["id"]))} == {"done"}
