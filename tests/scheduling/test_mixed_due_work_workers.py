"""Durability of every kind of due work at once, with real processes on PostgreSQL.

Two `balie worker`s work through a queue that holds each kind the worker knows: customers'
messages (`message.received`, which runs the `message_received` rule and starts SLA timers),
the SLA events those timers schedule (`sla.due_soon`, `sla.breached`, which run the
`sla_breached` rule), overdue call-backs (`automation.event`, the `callback_overdue` rule),
follow-ups, and snoozed conversations coming back. One worker is killed with SIGKILL partway,
a new one starts, and afterwards each piece of work has happened exactly once: one note per
rule and conversation, every job done at its first attempt, nothing left."""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.agents.service import Actor
from balie.automation import rules
from balie.automation.models import RuleRun
from balie.callbacks import service as callback_service
from balie.conversations.ingest import InboundMessage, ingest
from balie.conversations.models import Conversation, Message
from balie.customers.models import Customer
from balie.customers.service import normalise
from balie.db import make_engine, make_sessionmaker
from balie.follow_ups import service as follow_up_service
from balie.scheduling.models import DueJob
from balie.sla import targets
from balie.sla.targets import TargetRow
from factories import Tenant, make_tenant
from servers import job_states, poll, working

MESSAGES = 150  # each: message.received, sla.due_soon and sla.breached
CALLBACKS = 60  # each: message.received (the request in the inbox), automation.event (callback_overdue)
FOLLOW_UPS = 60
SNOOZED = 60
JOBS = 3 * MESSAGES + 2 * CALLBACKS + FOLLOW_UPS
ONLY_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
NOTES = {"message_received": "Regel: bericht gezien", "sla_breached": "Regel: te laat",
         "callback_overdue": "Regel: terugbellen is over tijd"}


def shop_rules(factory: sessionmaker[Session], tenant: Tenant) -> None:
    """A rule per trigger that leaves a note, and a one-hour first response on the API channel."""
    with factory() as session, session.begin():
        for trigger, note in NOTES.items():
            rules.create(session, tenant.shop_id, rules.RuleInput(
                name=f"Notitie bij {trigger}", trigger=trigger, actions=[{"action": "add_note", "value": note}]))
        targets.save(session, tenant.shop_id, actor_agent_id=tenant.agent_id,
                     targets=[TargetRow("api", "normal", "first_response", 60, business=False)], near=0.8)


def enqueue_everything(factory: sessionmaker[Session], tenant: Tenant) -> dict[str, list[int]]:
    """In one transaction, with the test's clock two hours behind the workers' real one, so
    that all of it (and the SLA events the messages lead to) is already due when it commits."""
    real_now = dt.datetime.now(dt.UTC)
    clock.set_clock(clock.FrozenClock(real_now - dt.timedelta(hours=2)))
    try:
        with factory() as session, session.begin():
            agent = agent_service.actor(session, agent_id=tenant.agent_id, shop_id=tenant.shop_id)
            written = [ingest(session, InboundMessage(
                shop_id=tenant.shop_id, channel="api", identities=[normalise("email", f"klant{index}@example.nl")],
                text="Waar blijft mijn pakket?", subject="Pakket", external_id=f"bericht-{index}",
            )).conversation_id for index in range(MESSAGES)]
            called = [call_me_back(session, agent, index) for index in range(CALLBACKS)]
            followed = plain_conversations(session, tenant, FOLLOW_UPS, status="resolved")
            for conversation_id in followed:
                follow_up_service.schedule(session, agent, conversation_id, due_at=real_now - dt.timedelta(minutes=1),
                                           note=f"Nagaan bij de vervoerder ({conversation_id})")
            snoozed = plain_conversations(session, tenant, SNOOZED, status="snoozed",
                                          snoozed_until=real_now - dt.timedelta(minutes=1))
    finally:
        clock.reset()
    return {"written": written, "called": called, "followed": followed, "snoozed": snoozed}


def call_me_back(session: Session, agent: Actor, index: int) -> int:
    """A call-back an agent promised: due half an hour from the test's clock; its conversation."""
    request = callback_service.Request(phone=f"+3161234{index:04d}", name=f"Beller {index}", source="agent")
    conversation_id = callback_service.create(session, shop_id=agent.shop_id, actor=agent,
                                              request=request).callback.conversation_id
    assert conversation_id is not None
    return conversation_id


def plain_conversations(session: Session, tenant: Tenant, count: int, **state: object) -> list[int]:
    customers = [Customer(shop_id=tenant.shop_id, name=f"Klant {index}") for index in range(count)]
    session.add_all(customers)
    session.flush()
    rows = [Conversation(shop_id=tenant.shop_id, customer_id=customer.id, channel="api", subject="Pakket zoek",
                         last_activity_at=clock.now(), **state) for customer in customers]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def still_snoozed(factory: sessionmaker[Session], ids: list[int]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).where(Conversation.id.in_(ids),
                                                         Conversation.status == "snoozed")) or 0


def notes_per_conversation(session: Session, shop_id: int, text: str) -> dict[int, int]:
    rows = session.execute(select(Message.conversation_id, func.count()).where(
        Message.shop_id == shop_id, Message.direction == "note", Message.text.like(f"{text}%"),
    ).group_by(Message.conversation_id)).all()
    return {conversation_id: count for conversation_id, count in rows}


@ONLY_POSTGRESQL
def test_every_kind_of_due_work_happens_exactly_once_across_workers_and_a_kill(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    engine = make_engine(database_url, pool_size=2)
    factory = make_sessionmaker(engine)
    tenant = make_tenant(factory, name="Drukke Winkel")
    shop_rules(factory, tenant)
    env = {"BALIE_DATABASE_URL": database_url, "BALIE_DATA_DIR": str(tmp_path / "data")}

    with working(env) as first, working(env) as second:
        ids = enqueue_everything(factory, tenant)
        deadline = time.monotonic() + 60
        at_kill = poll(lambda: job_states(factory, tenant.shop_id), lambda counts: counts.get("done", 0) >= JOBS // 5,
                       deadline)
        first.process.send_signal(signal.SIGKILL)  # mid-pass: it is working through the queue
        first.process.wait(timeout=10)
        with working(env) as restarted:
            final = poll(lambda: job_states(factory, tenant.shop_id),
                         lambda counts: counts.get("done", 0) >= JOBS and still_snoozed(factory, ids["snoozed"]) == 0,
                         deadline)
            logs = "".join(first.log + second.log + restarted.log)

    with factory() as session:
        kinds = dict(session.execute(select(DueJob.kind, func.count()).where(
            DueJob.shop_id == tenant.shop_id).group_by(DueJob.kind)).all())
        attempts = dict(session.execute(select(DueJob.attempts, func.count()).where(
            DueJob.shop_id == tenant.shop_id).group_by(DueJob.attempts)).all())
        notes = {trigger: notes_per_conversation(session, tenant.shop_id, text) for trigger, text in NOTES.items()}
        follow_up_notes = notes_per_conversation(session, tenant.shop_id, "Follow-up van Ada Agent: ")
        runs = dict(session.execute(select(RuleRun.outcome, func.count()).where(
            RuleRun.shop_id == tenant.shop_id).group_by(RuleRun.outcome)).all())
        breached = session.scalar(select(func.count()).where(
            Conversation.id.in_(ids["written"]), Conversation.sla_due_at < clock.now(),
            Conversation.first_response_at.is_(None)))
    back = still_snoozed(factory, ids["snoozed"])
    engine.dispose()
    elapsed = time.monotonic() - started

    assert final == {"done": JOBS}, f"{final} after {elapsed:.1f} s\n{logs[-5000:]}"
    assert kinds == {"message.received": MESSAGES + CALLBACKS, "sla.due_soon": MESSAGES, "sla.breached": MESSAGES,
                     "automation.event": CALLBACKS, "follow_up": FOLLOW_UPS}
    assert first.process.returncode == -signal.SIGKILL
    assert 0 < at_kill.get("done", 0) < JOBS, f"the kill came when {at_kill} (not partway)"
    assert attempts == {1: JOBS}  # nothing ran twice, nothing failed and was retried
    assert notes["message_received"] == dict.fromkeys(ids["written"] + ids["called"], 1)
    assert notes["sla_breached"] == dict.fromkeys(ids["written"], 1)
    assert notes["callback_overdue"] == dict.fromkeys(ids["called"], 1)
    assert follow_up_notes == dict.fromkeys(ids["followed"], 1)
    assert runs == {"fired": 2 * MESSAGES + 2 * CALLBACKS}
    assert breached == MESSAGES
    assert back == 0
    assert "Traceback" not in logs, logs[-5000:]
    with capsys.disabled():
        print(f"\n  durability: {JOBS} due jobs of five kinds and {SNOOZED} snoozes, {at_kill.get('done', 0)} done "
              f"when one of two workers was killed (SIGKILL), all done exactly once after a restart; "
              f"{elapsed:.1f} s in all")
