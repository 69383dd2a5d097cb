"""A customer's message leaves one `message.received` job behind, which a worker runs once
after the commit (received.py); what each step does is tested with its subject."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.conversations import received
from balie.conversations.ingest import InboundMessage, ingest
from balie.customers.service import normalise
from balie.scheduling import runner
from balie.scheduling.models import DueJob
from balie.worker import HANDLERS
from factories import Tenant


def _inbound(tenant: Tenant, external_id: str) -> InboundMessage:
    return InboundMessage(shop_id=tenant.shop_id, channel="email", identities=[normalise("email", "klant@example.nl")],
                          text="Waar blijft mijn pakket?", external_id=external_id)


def test_each_new_message_gets_one_job_and_a_worker_runs_it_once(
    factory: sessionmaker[Session], tenant: Tenant
) -> None:
    with factory() as session, session.begin():
        first = ingest(session, _inbound(tenant, "<a@example.nl>"))
        again = ingest(session, _inbound(tenant, "<a@example.nl>"))  # the same mail delivered twice
        second = ingest(session, _inbound(tenant, "<b@example.nl>"))
    assert again.message_id == first.message_id
    with factory() as session:
        jobs = session.scalars(select(DueJob).where(DueJob.kind == received.KIND).order_by(DueJob.ref_id)).all()
        assert [(job.ref_id, job.state) for job in jobs] == [(first.message_id, "pending"),
                                                              (second.message_id, "pending")]
    outcomes = runner.run_due(factory, HANDLERS)
    assert sorted(outcome.state for outcome in outcomes if outcome.kind == received.KIND) == ["done", "done"]
    assert runner.run_due(factory, HANDLERS) == []


def test_the_job_of_a_message_deleted_since_does_nothing(factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        received.schedule(session, shop_id=tenant.shop_id, message_id=987654, now=clock.now())
    assert [outcome.state for outcome in runner.run_due(factory, HANDLERS)] == ["done"]


