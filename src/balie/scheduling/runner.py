"""Runs due jobs: claims a few at a time, runs each one's handler in a savepoint, and commits
the handlers' effects together with the jobs' `done` marks, so each job takes effect exactly once.

The jobs' rows stay locked (FOR UPDATE on PostgreSQL; SQLite has one writer and claims one
job per transaction) for the whole transaction. A worker that dies mid-batch never commits: its
connection goes, the database rolls back and releases the rows, and the next worker to look
finds the jobs still pending.
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
from balie.db import lock_conflict
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
# Jobs claimed and committed together: a commit per job cost the worker a third of its time
# at 200 messages/s (docs/benchmarks.md). Small, since the batch's row locks (the conversations
# its handlers wrote) are held until that commit.
PER_TRANSACTION = 20


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
            max_attempts: int = MAX_ATTEMPTS, per_transaction: int = PER_TRANSACTION) -> list[Outcome]:
    """Runs up to `limit` due jobs, up to `per_transaction` of them per transaction. Only kinds
    in `handlers` are claimed: a job of a kind this worker does not know waits for one that does."""
    outcomes: list[Outcome] = []
    if not handlers:
        return outcomes
    while len(outcomes) < limit:
        ran = _run_some(factory, handlers, max_attempts, min(per_transaction, limit - len(outcomes)))
        if not ran:
            break
        outcomes.extend(ran)
    return outcomes


def _claim(session: Session, kinds: Collection[str], count: int) -> list[DueJob]:
    now = clock.now()
    due = (DueJob.state == "pending") & (DueJob.next_attempt_at <= now) & DueJob.kind.in_(sorted(kinds))
    query = select(DueJob).where(due).order_by(DueJob.next_attempt_at, DueJob.id)
    if session.get_bind().dialect.name == "postgresql":
        # Locked until we commit; other workers skip them and take the next.
        return list(session.scalars(query.limit(count).with_for_update(skip_locked=True)))
    job = session.scalars(query.limit(1)).first()
    if job is None:
        return []
    # SQLite, one at a time: the write takes the database's one write lock (waiting for another
    # worker's commit), and finds nothing to update when that worker has run the job meanwhile.
    taken = session.execute(
        update(DueJob).where(DueJob.id == job.id, due).values(state="pending")
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return []
    session.refresh(job)
    return [job]


def _run_some(factory: sessionmaker[Session], handlers: Mapping[str, Handler], max_attempts: int,
              count: int) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with factory() as session, session.begin():
        for job in _claim(session, handlers.keys(), count):
            # The attempt is written with its outcome, in one UPDATE: a worker that dies first
            # commits neither, and the job was never tried.
            attempt = job.attempts + 1
            try:
                with savepoint(session):
                    handlers[job.kind](session, job)
                    session.flush()
            except Exception as error:
                outcomes.append(_failed(session, job, attempt, error, max_attempts))
                continue
            job.attempts, job.state, job.done_at, job.last_error = attempt, "done", clock.now(), None
            outcomes.append(Outcome(job.id, job.kind, "done"))
    return outcomes


def _failed(session: Session, job: DueJob, attempt: int, error: Exception, max_attempts: int) -> Outcome:
    # The savepoint's rollback expired what the handler touched; the job row is still ours.
    session.refresh(job)
    job.attempts = attempt
    message = f"{error.__class__.__name__}: {error}"[:1000]
    job.last_error = message
    if job.attempts >= max_attempts:
        job.state, job.done_at = "failed", clock.now()
        log.error("due job %s (%s, ref %s) failed for good after %s attempts: %s",
                  job.id, job.kind, job.ref_id, job.attempts, message, exc_info=error)
    else:
        # Two workers' batches that wrote the same conversations in opposite orders: PostgreSQL
        # stops one of them. Nothing is wrong with the job; it goes again on the next pass.
        job.next_attempt_at = clock.now() + (dt.timedelta(0) if lock_conflict(error) else backoff(job.attempts))
        log.warning("due job %s (%s, ref %s) failed (attempt %s of %s), retrying at %s: %s",
                    job.id, job.kind, job.ref_id, job.attempts, max_attempts, job.next_attempt_at.isoformat(),
                    message, exc_info=error)
    return Outcome(job.id, job.kind, job.state, message)
