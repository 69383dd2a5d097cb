"""Runs due jobs: claims one at a time, runs its kind's handler, and commits the handler's
effects together with the job's `done` mark, so each job takes effect exactly once.

The job's row stays locked (FOR UPDATE on PostgreSQL; SQLite has one writer) for the whole
transaction. A worker that dies mid-job never commits: its connection goes, the database
rolls back and releases the row, and the next worker to look finds the job still pending.
A handler that raises is rolled back to a savepoint and the job is tried again later
(backoff), until it is marked `failed` after `max_attempts` tries. See docs/scheduling.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.events import savepoint
from balie.scheduling.models import DueJob

log = logging.getLogger(__name__)

# A handler does the job's work in the session it is given, and only there: it must not
# commit, and it must not act on the outside world (that is what the outbox is for), since
# its work may be rolled back. It raises to have the job retried.
Handler = Callable[[Session, DueJob], None]

BASE_DELAY = 10.0
MAX_DELAY = 3600.0
MAX_ATTEMPTS = 8
BATCH = 200  # jobs per pass; the worker comes straight back when a pass was busy


@dataclass(frozen=True)
class Outcome:
    job_id: int
    kind: str
    state: str  # done, pending (to be retried) or failed
    error: str | None = None


def backoff(attempts: int) -> dt.timedelta:
    """Exponential with jitter: about 10 s, 20 s, 40 s, ... capped at an hour."""
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=delay * random.uniform(0.8, 1.2))


def run_due(factory: sessionmaker[Session], handlers: Mapping[str, Handler], *, limit: int = BATCH,
            max_attempts: int = MAX_ATTEMPTS) -> list[Outcome]:
    """Runs up to `limit` due jobs, each in its own transaction. Only kinds in `handlers` are
    claimed: a job of a kind this worker does not know waits for one that does."""
    outcomes: list[Outcome] = []
    if not handlers:
        return outcomes
    for _ in range(limit):
        outcome = _run_next(factory, handlers, max_attempts)
        if outcome is None:
            break
        outcomes.append(outcome)
    return outcomes


def _claim(session: Session, kinds: Collection[str]) -> DueJob | None:
    now = clock.now()
    due = (DueJob.state == "pending") & (DueJob.next_attempt_at <= now) & DueJob.kind.in_(sorted(kinds))
    query = select(DueJob).where(due).order_by(DueJob.next_attempt_at, DueJob.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        # Locked until we commit; other workers skip it and take the next one.
        return session.scalars(query.with_for_update(skip_locked=True)).first()
    job = session.scalars(query).first()
    if job is None:
        return None
    # SQLite: the write takes the database's one write lock (waiting for another worker's
    # commit), and finds nothing to update when that worker has run the job meanwhile.
    taken = session.execute(
        update(DueJob).where(DueJob.id == job.id, due).values(state="pending")
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(job)
    return job


def _run_next(factory: sessionmaker[Session], handlers: Mapping[str, Handler], max_attempts: int) -> Outcome | None:
    with factory() as session, session.begin():
        job = _claim(session, handlers.keys())
        if job is None:
            return None
        job.attempts += 1
        try:
            with savepoint(session):
                handlers[job.kind](session, job)
                session.flush()
        except Exception as error:
            return _failed(session, job, error, max_attempts)
        job.state, job.done_at, job.last_error = "done", clock.now(), None
        return Outcome(job.id, job.kind, "done")


def _failed(session: Session, job: DueJob, error: Exception, max_attempts: int) -> Outcome:
    # The savepoint's rollback expired what the handler touched; the job row is still ours.
    session.refresh(job)
    message = f"{error.__class__.__name__}: {error}"[:1000]
    job.last_error = message
    if job.attempts >= max_attempts:
        job.state, job.done_at = "failed", clock.now()
        log.error("due job %s (%s, ref %s) failed for good after %s attempts: %s",
                  job.id, job.kind, job.ref_id, job.attempts, message, exc_info=error)
    else:
        job.next_attempt_at = clock.now() + backoff(job.attempts)
        log.warning("due job %s (%s, ref %s) failed (attempt %s of %s), retrying at %s: %s",
                    job.id, job.kind, job.ref_id, job.attempts, max_attempts, job.next_attempt_at.isoformat(),
                    message, exc_info=error)
    return Outcome(job.id, job.kind, job.state, message)
