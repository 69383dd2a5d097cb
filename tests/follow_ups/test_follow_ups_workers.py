"""Durability with real processes on PostgreSQL: two `balie worker`s fire 300 due follow-ups,
one of them is killed with SIGKILL partway, a new one starts, and every follow-up has fired
exactly once: one note per conversation, none missing, none twice."""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path

import pytest
from follow_up_support import actor
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.conversations.models import Conversation, Message
from balie.customers.models import Customer
from balie.db import make_engine, make_sessionmaker
from balie.follow_ups import service as follow_up_service
from balie.scheduling.models import DueJob
from factories import make_tenant
from servers import job_states, poll, working

COUNT = 300
ONLY_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def conversations(factory: sessionmaker[Session], shop_id: int, count: int) -> list[int]:
    now = clock.now()
    with factory() as session, session.begin():
        customers = [Customer(shop_id=shop_id, name=f"Klant {index}") for index in range(count)]
        session.add_all(customers)
        session.flush()
        rows = [Conversation(shop_id=shop_id, customer_id=customer.id, channel="api", subject="Pakket zoek",
                             status="resolved", last_activity_at=now) for customer in customers]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


@ONLY_POSTGRESQL
def test_every_follow_up_fires_exactly_once_across_workers_and_a_kill(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    engine = make_engine(database_url, pool_size=2)
    factory = make_sessionmaker(engine)
    tenant = make_tenant(factory, name="Duurzame Winkel")
    ids = conversations(factory, tenant.shop_id, COUNT)
    env = {"BALIE_DATABASE_URL": database_url, "BALIE_DATA_DIR": str(tmp_path / "data")}

    with working(env) as first, working(env) as second:
        # Schedule with the test's clock a minute behind, so that every follow-up is already
        # due for the workers (which run on the real clock) when the transaction commits.
        real_now = dt.datetime.now(dt.UTC)
        clock.set_clock(clock.FrozenClock(real_now - dt.timedelta(minutes=1)))
        try:
            agent = actor(factory, tenant)
            with factory() as session, session.begin():
                for index, conversation_id in enumerate(ids):
                    follow_up_service.schedule(session, agent, conversation_id,
                                               due_at=real_now - dt.timedelta(seconds=30) + dt.timedelta(
                                                   milliseconds=index),
                                               note=f"Nagaan bij de vervoerder ({conversation_id})")
        finally:
            clock.reset()
        deadline = time.monotonic() + 25
        at_kill = poll(lambda: job_states(factory, tenant.shop_id), lambda counts: counts.get("done", 0) >= COUNT // 5,
                       deadline)
        first.process.send_signal(signal.SIGKILL)  # mid-pass: it is working through the queue
        first.process.wait(timeout=10)
        with working(env) as restarted:
            final = poll(lambda: job_states(factory, tenant.shop_id), lambda counts: counts.get("done", 0) >= COUNT,
                         deadline)
            logs = "".join(first.log + second.log + restarted.log)

    with factory() as session:
        fired = session.execute(
            select(Message.conversation_id, func.count()).where(
                Message.shop_id == tenant.shop_id, Message.direction == "note",
                Message.author_agent_id.is_(None), Message.text.like("Follow-up van Ada Agent: %"),
            ).group_by(Message.conversation_id)
        ).all()
        attempts = dict(session.execute(select(DueJob.attempts, func.count()).where(
            DueJob.shop_id == tenant.shop_id).group_by(DueJob.attempts)).all())
        reopened = session.scalar(select(func.count()).where(
            Conversation.shop_id == tenant.shop_id, Conversation.status == "open",
            Conversation.assignee_id == tenant.agent_id))
        counted = dict(session.execute(select(Conversation.id, Conversation.message_count).where(
            Conversation.shop_id == tenant.shop_id)).all())
    engine.dispose()
    elapsed = time.monotonic() - started

    assert final == {"done": COUNT}, f"{final} after {elapsed:.1f} s\n{logs[-5000:]}"
    assert first.process.returncode == -signal.SIGKILL
    assert 0 < at_kill.get("done", 0) < COUNT, f"the kill came when {at_kill} (not partway)"
    assert {conversation_id: count for conversation_id, count in fired} == dict.fromkeys(ids, 1)
    assert attempts == {1: COUNT}  # nothing ran twice, nothing failed and was retried
    assert reopened == COUNT
    assert set(counted.values()) == {2}  # the "scheduled" note and the follow-up's own
    assert "Traceback" not in logs, logs[-5000:]
    with capsys.disabled():
        print(f"\n  durability: {COUNT} follow-ups, {at_kill.get('done', 0)} done when one of two workers was "
              f"killed (SIGKILL, pid {first.process.pid}), all {COUNT} done exactly once after a restart; "
              f"{elapsed:.1f} s in all")
