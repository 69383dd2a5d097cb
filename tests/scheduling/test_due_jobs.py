"""The due-job queue: scheduled once per key, run when due, effects and `done` committed
together, failures rolled back and retried with backoff, then given up; run inline with the
test's clock."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.audit import service as audit_service
from balie.audit.models import AuditEvent
from balie.errors import Conflict, NotFound
from balie.events import Event, publish_on_commit
from balie.scheduling import runner
from balie.scheduling import service as scheduling_service
from balie.scheduling.models import DueJob
from factories import Tenant

KIND = "test_ping"


def schedule(factory: sessionmaker[Session], tenant: Tenant, due_at: dt.datetime, ref_id: int = 1,
             kind: str = KIND, **payload: object) -> int:
    with factory() as session, session.begin():
        job, _ = scheduling_service.schedule(session, shop_id=tenant.shop_id, kind=kind, ref_id=ref_id,
                                             due_at=due_at, payload=dict(payload))
        return job.id


def job(factory: sessionmaker[Session], job_id: int) -> DueJob:
    with factory() as session:
        return session.get_one(DueJob, job_id)


def pings(factory: sessionmaker[Session]) -> list[int]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "test.ping")
                                    .order_by(AuditEvent.id)))


def ping(session: Session, due: DueJob) -> None:
    """A handler with an effect in the database and an event, like a real one."""
    audit_service.record(session, shop_id=due.shop_id, actor_agent_id=None, action="test.ping",
                         object_type="due_job", object_id=due.id)
    publish_on_commit(session, Event("test.pinged", due.shop_id, {"job_id": due.id}))


def failing(times: int) -> Callable[[Session, DueJob], None]:
    """Writes its effect, then raises: `times` times, then succeeds."""
    calls = {"count": 0}

    def handler(session: Session, due: DueJob) -> None:
        ping(session, due)
        calls["count"] += 1
        if calls["count"] <= times:
            raise RuntimeError(f"carrier API down ({calls['count']})")

    return handler


@pytest.fixture
def events(app: FastAPI) -> list[Event]:
    seen: list[Event] = []
    app.state.context.bus.add_listener(seen.append)
    return seen


def test_a_job_runs_when_due_and_only_once(factory: sessionmaker[Session], tenant: Tenant,
                                           frozen_clock: clock.FrozenClock, events: list[Event]) -> None:
    job_id = schedule(factory, tenant, frozen_clock.current + dt.timedelta(minutes=10))

    assert runner.run_due(factory, {KIND: ping}) == []
    frozen_clock.advance(minutes=10)
    outcomes = runner.run_due(factory, {KIND: ping})

    assert outcomes == [runner.Outcome(job_id, KIND, "done")]
    assert pings(factory) == [job_id]
    done = job(factory, job_id)
    assert done.state == "done" and done.attempts == 1 and done.done_at == frozen_clock.current
    assert [event.type for event in events if event.type == "test.pinged"] == ["test.pinged"]
    assert runner.run_due(factory, {KIND: ping}) == []
    assert pings(factory) == [job_id]


def test_the_same_job_twice_is_one_job(factory: sessionmaker[Session], tenant: Tenant,
                                       frozen_clock: clock.FrozenClock) -> None:
    due_at = frozen_clock.current + dt.timedelta(hours=1)
    first = schedule(factory, tenant, due_at, ref_id=7)
    again = schedule(factory, tenant, due_at.astimezone(dt.timezone(dt.timedelta(hours=1))), ref_id=7)
    later = schedule(factory, tenant, due_at + dt.timedelta(seconds=1), ref_id=7)
    other = schedule(factory, tenant, due_at, ref_id=8)

    assert first == again
    assert len({first, later, other}) == 3


def test_earliest_due_runs_first_and_future_jobs_wait(factory: sessionmaker[Session], tenant: Tenant,
                                                      frozen_clock: clock.FrozenClock) -> None:
    now = frozen_clock.current
    late = schedule(factory, tenant, now + dt.timedelta(minutes=5), ref_id=1)
    early = schedule(factory, tenant, now + dt.timedelta(minutes=1), ref_id=2)
    future = schedule(factory, tenant, now + dt.timedelta(days=1), ref_id=3)
    frozen_clock.advance(minutes=5)

    assert [outcome.job_id for outcome in runner.run_due(factory, {KIND: ping})] == [early, late]
    assert job(factory, future).state == "pending"


def test_a_failing_handler_is_rolled_back_and_retried_with_backoff(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock, events: list[Event]
) -> None:
    job_id = schedule(factory, tenant, frozen_clock.current)
    handlers = {KIND: failing(times=2)}

    [outcome] = runner.run_due(factory, handlers)

    assert outcome.state == "pending" and "carrier API down (1)" in str(outcome.error)
    assert pings(factory) == []  # the handler's write went with its savepoint ...
    assert not [event for event in events if event.type == "test.pinged"]  # ... and so did its event
    waiting = job(factory, job_id)
    assert waiting.attempts == 1 and waiting.last_error == "RuntimeError: carrier API down (1)"
    assert frozen_clock.current + dt.timedelta(seconds=8) <= waiting.next_attempt_at
    assert waiting.next_attempt_at <= frozen_clock.current + dt.timedelta(seconds=12)
    assert waiting.due_at == frozen_clock.current  # the key does not move

    assert runner.run_due(factory, handlers) == []  # backing off
    frozen_clock.advance(seconds=12)
    assert runner.run_due(factory, handlers)[0].state == "pending"  # second failure: about 20 s now
    frozen_clock.advance(seconds=12)
    assert runner.run_due(factory, handlers) == []
    frozen_clock.advance(seconds=12)
    assert runner.run_due(factory, handlers)[0].state == "done"
    assert pings(factory) == [job_id]
    done = job(factory, job_id)
    assert done.attempts == 3 and done.last_error is None
    assert len([event for event in events if event.type == "test.pinged"]) == 1


def test_a_job_that_keeps_failing_is_marked_failed_and_the_others_still_run(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock,
    caplog: pytest.LogCaptureFixture
) -> None:
    broken = schedule(factory, tenant, frozen_clock.current, ref_id=1, kind="test_broken")
    fine = schedule(factory, tenant, frozen_clock.current + dt.timedelta(seconds=1), ref_id=2)
    handlers = {"test_broken": failing(times=100), KIND: ping}
    frozen_clock.advance(seconds=1)

    outcomes = runner.run_due(factory, handlers, max_attempts=3)
    assert {(outcome.job_id, outcome.state) for outcome in outcomes} == {(broken, "pending"), (fine, "done")}
    for _ in range(2):
        frozen_clock.advance(hours=1)
        runner.run_due(factory, handlers, max_attempts=3)

    failed = job(factory, broken)
    assert failed.state == "failed" and failed.attempts == 3 and failed.done_at == frozen_clock.current
    assert "carrier API down (3)" in str(failed.last_error)
    assert any("failed for good after 3 attempts" in record.message for record in caplog.records)
    frozen_clock.advance(days=1)
    assert runner.run_due(factory, handlers, max_attempts=3) == []  # never tried again
    assert pings(factory) == [fine]


def test_a_kind_without_a_handler_waits_for_a_worker_that_has_one(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    job_id = schedule(factory, tenant, frozen_clock.current, kind="test_unknown")
    assert runner.run_due(factory, {KIND: ping}) == []
    assert job(factory, job_id).state == "pending" and job(factory, job_id).attempts == 0
    assert runner.run_due(factory, {"test_unknown": ping})[0].state == "done"


def test_cancelled_jobs_do_not_run_and_done_ones_cannot_be_cancelled(
    factory: sessionmaker[Session], tenant: Tenant, other_tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    due_at = frozen_clock.current + dt.timedelta(minutes=1)
    cancelled = schedule(factory, tenant, due_at, ref_id=1)
    ran = schedule(factory, tenant, due_at, ref_id=2)
    with factory() as session, session.begin():
        with pytest.raises(NotFound):  # another shop's job does not exist for this one
            scheduling_service.cancel(session, shop_id=other_tenant.shop_id, kind=KIND, job_id=cancelled)
        with pytest.raises(NotFound):  # nor does one of another kind
            scheduling_service.cancel(session, shop_id=tenant.shop_id, kind="test_other", job_id=cancelled)
        scheduling_service.cancel(session, shop_id=tenant.shop_id, kind=KIND, job_id=cancelled)
        assert scheduling_service.cancel(session, shop_id=tenant.shop_id, kind=KIND,
                                         job_id=cancelled).state == "cancelled"  # twice is fine
    frozen_clock.advance(minutes=1)

    assert [outcome.job_id for outcome in runner.run_due(factory, {KIND: ping})] == [ran]
    with factory() as session, session.begin(), pytest.raises(Conflict):
        scheduling_service.cancel(session, shop_id=tenant.shop_id, kind=KIND, job_id=ran)
    assert job(factory, cancelled).state == "cancelled"


def test_a_cancelled_job_asked_for_again_is_pending_again(factory: sessionmaker[Session], tenant: Tenant,
                                                          frozen_clock: clock.FrozenClock) -> None:
    due_at = frozen_clock.current + dt.timedelta(minutes=1)
    job_id = schedule(factory, tenant, due_at, note="eerste")
    with factory() as session, session.begin():
        scheduling_service.cancel(session, shop_id=tenant.shop_id, kind=KIND, job_id=job_id)
    assert schedule(factory, tenant, due_at, note="tweede") == job_id
    again = job(factory, job_id)
    assert again.state == "pending" and again.payload == {"note": "tweede"} and again.done_at is None


def test_what_a_job_may_carry(factory: sessionmaker[Session], tenant: Tenant,
                              frozen_clock: clock.FrozenClock) -> None:
    with factory() as session:
        with pytest.raises(ValueError, match="naive"):
            scheduling_service.schedule(session, shop_id=tenant.shop_id, kind=KIND, ref_id=1,
                                         due_at=dt.datetime(2026, 12, 1, 9, 0))
        with pytest.raises(ValueError, match="payload"):
            scheduling_service.schedule(session, shop_id=tenant.shop_id, kind=KIND, ref_id=1,
                                         due_at=frozen_clock.current, payload={"blob": "x" * 20_000})
        with pytest.raises(ValueError, match="kind"):
            scheduling_service.schedule(session, shop_id=tenant.shop_id, kind="k" * 41, ref_id=1,
                                         due_at=frozen_clock.current)


def test_the_worker_runs_due_jobs_in_its_pass(app: FastAPI, factory: sessionmaker[Session], tenant: Tenant,
                                              frozen_clock: clock.FrozenClock) -> None:
    app.state.worker.handlers[KIND] = ping
    job_id = schedule(factory, tenant, frozen_clock.current)
    assert app.state.worker.run_once() >= 1
    assert pings(factory) == [job_id]


def test_a_worker_stopped_mid_job_leaves_it_pending_for_the_next(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    """In-process stand-in for kill -9 (tests/follow_ups has the real one): the pass ends
    without committing, so neither the effect nor the done mark nor the attempt is kept."""
    job_id = schedule(factory, tenant, frozen_clock.current)

    def dies(session: Session, due: DueJob) -> None:
        ping(session, due)
        raise KeyboardInterrupt  # not an Exception: nothing in the runner catches it

    with pytest.raises(KeyboardInterrupt):
        runner.run_due(factory, {KIND: dies})
    assert pings(factory) == []
    assert job(factory, job_id).state == "pending" and job(factory, job_id).attempts == 0
    assert runner.run_due(factory, {KIND: ping})[0].state == "done"
    assert pings(factory) == [job_id]


ONLY_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@ONLY_POSTGRESQL
def test_a_job_being_run_is_skipped_by_other_workers(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock, database_url: str
) -> None:
    """While one worker runs a job (its row locked), another takes the next one instead of
    waiting or running it too."""
    first = schedule(factory, tenant, frozen_clock.current, ref_id=1)
    second = schedule(factory, tenant, frozen_clock.current + dt.timedelta(microseconds=1), ref_id=2)
    frozen_clock.advance(seconds=1)
    meanwhile: list[runner.Outcome] = []

    def slow(session: Session, due: DueJob) -> None:
        if due.id == first:  # a second worker's whole pass happens while this job is held
            meanwhile.extend(runner.run_due(factory, {KIND: ping}))
        ping(session, due)

    outcomes = runner.run_due(factory, {KIND: slow}, per_transaction=1)

    assert [outcome.job_id for outcome in meanwhile] == [second]
    assert [outcome.job_id for outcome in outcomes] == [first]
    assert sorted(pings(factory)) == [first, second]


@ONLY_POSTGRESQL
def test_two_requests_racing_to_schedule_the_same_job_make_one(
    factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock, database_url: str
) -> None:
    due_at = frozen_clock.current + dt.timedelta(hours=1)
    results: list[tuple[int, bool]] = []

    def second_request() -> None:
        with factory() as session, session.begin():
            raced, created = scheduling_service.schedule(session, shop_id=tenant.shop_id, kind=KIND, ref_id=1,
                                                         due_at=due_at)
            results.append((raced.id, created))

    with factory() as session, session.begin():
        first, created = scheduling_service.schedule(session, shop_id=tenant.shop_id, kind=KIND, ref_id=1,
                                                     due_at=due_at)
        assert created
        # The second request looks before the first commits, finds nothing, and its insert
        # waits on the unique key until the first commits.
        racer = threading.Thread(target=second_request)
        racer.start()
        racer.join(timeout=0.5)
        assert racer.is_alive()
    racer.join(timeout=10)

    assert results == [(first.id, False)]
    with factory() as session:
        assert len(session.scalars(select(DueJob)).all()) == 1


def test_ensure_is_schedule_in_one_statement(factory: sessionmaker[Session], tenant: Tenant,
                                             frozen_clock: clock.FrozenClock) -> None:
    due = clock.now() + dt.timedelta(minutes=5)

    def ensure(payload: dict[str, object]) -> list[tuple[str, dict[str, object]]]:
        with factory() as session, session.begin():
            scheduling_service.ensure(session, shop_id=tenant.shop_id, kind=KIND, ref_id=7, due_at=due,
                                      payload=payload)
        with factory() as session:
            return [(row.state, row.payload) for row in session.scalars(select(DueJob).where(DueJob.kind == KIND))]

    assert ensure({"n": 1}) == [("pending", {"n": 1})]
    assert ensure({"n": 2}) == [("pending", {"n": 1})]  # the same moment twice is one job, the first
    with factory() as session, session.begin():
        [row] = session.scalars(select(DueJob).where(DueJob.kind == KIND)).all()
        scheduling_service.cancel(session, shop_id=tenant.shop_id, kind=KIND, job_id=row.id)
    assert ensure({"n": 3}) == [("pending", {"n": 3})]  # a cancelled one is put back
    frozen_clock.advance(minutes=6)
    runner.run_due(factory, {KIND: ping})
    assert ensure({"n": 4}) == [("done", {"n": 3})]  # one that ran stays done
    with pytest.raises(ValueError, match="naive"):
        ensure_naive = due.replace(tzinfo=None)
        with factory() as session:
            scheduling_service.ensure(session, shop_id=tenant.shop_id, kind=KIND, ref_id=7, due_at=ensure_naive)


def test_a_failing_job_in_a_batch_leaves_the_others_done(factory: sessionmaker[Session], tenant: Tenant,
                                                         frozen_clock: clock.FrozenClock) -> None:
    """Jobs run together in one transaction, each in its own savepoint: one that raises is put
    back for later, its writes undone, and those before and after it still count."""
    ids = [schedule(factory, tenant, frozen_clock.current + dt.timedelta(microseconds=n), ref_id=n) for n in range(3)]
    frozen_clock.advance(seconds=1)

    def second_fails(session: Session, due: DueJob) -> None:
        ping(session, due)
        if due.id == ids[1]:
            raise RuntimeError("carrier API down")

    outcomes = runner.run_due(factory, {KIND: second_fails})
    assert [(outcome.job_id, outcome.state) for outcome in outcomes] == [
        (ids[0], "done"), (ids[1], "pending"), (ids[2], "done")]
    assert sorted(pings(factory)) == [ids[0], ids[2]]
    assert job(factory, ids[1]).attempts == 1 and job(factory, ids[1]).last_error == "RuntimeError: carrier API down"


def test_a_deadlock_victim_goes_again_on_the_next_pass(factory: sessionmaker[Session], tenant: Tenant,
                                                       frozen_clock: clock.FrozenClock) -> None:
    """PostgreSQL stops one of two workers whose batches wrote the same rows in opposite orders
    (SQLSTATE 40P01): no backoff, the job is simply tried again."""

    class Deadlock(Exception):
        sqlstate = "40P01"

    job_id = schedule(factory, tenant, frozen_clock.current)
    frozen_clock.advance(seconds=1)
    calls: list[int] = []

    def unlucky_once(session: Session, due: DueJob) -> None:
        calls.append(due.id)
        if len(calls) == 1:
            raise OperationalError("UPDATE conversation ...", {}, Deadlock("deadlock detected"))
        ping(session, due)

    # Put back due at once, so the same pass takes it again (a failure of its own would wait ~10 s).
    assert [outcome.state for outcome in runner.run_due(factory, {KIND: unlucky_once})] == ["pending", "done"]
    assert calls == [job_id, job_id] and pings(factory) == [job_id] and job(factory, job_id).attempts == 2


def test_finished_jobs_go_after_their_retention_but_follow_ups_and_failures_stay(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    start = frozen_clock.current
    done_old = schedule(factory, tenant, start, ref_id=1)
    cancelled_old = schedule(factory, tenant, start, ref_id=2)
    failed_old = schedule(factory, tenant, start, ref_id=3)
    follow_up_old = schedule(factory, tenant, start, ref_id=4, kind="follow_up", note="x")
    frozen_clock.advance(seconds=1)
    with factory() as session, session.begin():
        scheduling_service.cancel(session, shop_id=tenant.shop_id, kind=KIND, job_id=cancelled_old)

    def third_fails(session: Session, due: DueJob) -> None:
        if due.id == failed_old:
            raise RuntimeError("no")
        ping(session, due)

    runner.run_due(factory, {KIND: third_fails, "follow_up": ping}, max_attempts=1)
    frozen_clock.advance(days=13)
    done_recent = schedule(factory, tenant, frozen_clock.current, ref_id=5)
    frozen_clock.advance(seconds=1)
    runner.run_due(factory, {KIND: ping})
    frozen_clock.advance(days=1)
    pending_old = schedule(factory, tenant, start, ref_id=6, kind="not_handled_here")

    app.state.worker.run_once()  # the worker's first pass purges

    with factory() as session:
        left = {row.id: row.state for row in session.scalars(select(DueJob))}
    assert done_old not in left and cancelled_old not in left
    assert left[failed_old] == "failed" and left[follow_up_old] == "done"
    assert left[done_recent] == "done" and left[pending_old] == "pending"
