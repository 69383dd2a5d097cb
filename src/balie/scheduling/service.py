"""Putting work on the schedule and taking it off again, inside the caller's transaction:
the job exists exactly when what asked for it was committed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from balie import clock
from balie.db import get_scoped, scoped
from balie.errors import Conflict, NotFound
from balie.scheduling.models import DueJob

MAX_KIND = 40
# Payloads say what to do, not carry data: a note, an agent id. Larger means a table of its own.
MAX_PAYLOAD_CHARS = 16 * 1024


def schedule(
    session: Session, *, shop_id: int, kind: str, ref_id: int, due_at: dt.datetime,
    payload: dict[str, Any] | None = None,
) -> tuple[DueJob, bool]:
    """The job for (shop, kind, ref_id, due_at) and whether this call created it. Asking
    again for the same moment returns the existing job (also one that already ran): the
    caller decides what a repeat means. A cancelled one is put back, with the new payload."""
    payload = _checked(kind, due_at, payload)
    due_at = due_at.astimezone(dt.UTC)
    existing = _by_key(session, shop_id, kind, ref_id, due_at)
    if existing is not None and existing.state == "cancelled":
        existing.state, existing.payload, existing.attempts = "pending", payload, 0
        existing.next_attempt_at, existing.last_error, existing.done_at = due_at, None, None
        session.flush()
        return existing, True
    if existing is not None:
        return existing, False
    job = DueJob(shop_id=shop_id, kind=kind, ref_id=ref_id, due_at=due_at, next_attempt_at=due_at,
                 payload=payload, state="pending", attempts=0, created_at=clock.now())
    try:
        with session.begin_nested():  # a concurrent identical request may insert first
            session.add(job)
            session.flush()
    except IntegrityError:
        existing = _by_key(session, shop_id, kind, ref_id, due_at)
        if existing is None:
            raise
        return existing, False
    return job, True


def ensure(
    session: Session, *, shop_id: int, kind: str, ref_id: int, due_at: dt.datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """schedule() in one statement, for the worker's hot paths (the SLA timers of every
    message): the job exists afterwards, a cancelled one is put back, nothing is returned."""
    payload = _checked(kind, due_at, payload)
    due_at = due_at.astimezone(dt.UTC)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(DueJob).values(
        shop_id=shop_id, kind=kind, ref_id=ref_id, due_at=due_at, next_attempt_at=due_at, payload=payload,
        state="pending", attempts=0, created_at=clock.now())
    session.execute(statement.on_conflict_do_update(
        index_elements=["shop_id", "kind", "ref_id", "due_at"],
        set_={"state": "pending", "payload": statement.excluded.payload, "attempts": 0, "next_attempt_at": due_at,
              "last_error": None, "done_at": None},
        where=DueJob.state == "cancelled",
    ))


def _checked(kind: str, due_at: dt.datetime, payload: dict[str, Any] | None) -> dict[str, Any]:
    if not kind or len(kind) > MAX_KIND:
        raise ValueError(f"a job kind is 1 to {MAX_KIND} characters")
    if due_at.tzinfo is None:
        raise ValueError("naive due_at; use balie.clock")
    payload = payload or {}
    if len(json.dumps(payload, ensure_ascii=False)) > MAX_PAYLOAD_CHARS:
        raise ValueError(f"a job payload is at most {MAX_PAYLOAD_CHARS} characters of JSON")
    return payload


def _by_key(session: Session, shop_id: int, kind: str, ref_id: int, due_at: dt.datetime) -> DueJob | None:
    query = scoped(DueJob, shop_id).where(DueJob.kind == kind, DueJob.ref_id == ref_id, DueJob.due_at == due_at)
    return session.scalars(query).first()


def get(session: Session, *, shop_id: int, kind: str, job_id: int) -> DueJob:
    job = get_scoped(session, DueJob, shop_id, job_id)
    if job.kind != kind:
        raise NotFound(f"{kind.replace('_', '-')} {job_id} not found")
    return job


def for_ref(session: Session, *, shop_id: int, kind: str, ref_id: int, state: str | None = None) -> list[DueJob]:
    query = scoped(DueJob, shop_id).where(DueJob.kind == kind, DueJob.ref_id == ref_id)
    if state is not None:
        query = query.where(DueJob.state == state)
    return list(session.scalars(query.order_by(DueJob.due_at, DueJob.id)))


def cancel(session: Session, *, shop_id: int, kind: str, job_id: int) -> DueJob:
    """Takes a pending job off the schedule. Cancelling twice is fine; a job that already ran
    (or is running: the update waits for the worker's row lock, then sees `done`) cannot be."""
    job = get(session, shop_id=shop_id, kind=kind, job_id=job_id)
    result = session.execute(
        update(DueJob)
        .where(DueJob.id == job.id, DueJob.shop_id == shop_id, DueJob.state == "pending")
        .values(state="cancelled", done_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    if result.rowcount == 0 and job.state != "cancelled":  # type: ignore[attr-defined]
        raise Conflict(f"{kind.replace('_', '-')} {job_id} is {job.state} and can no longer be cancelled",
                       code="already_done")
    return job


def pending_count(session: Session, *, shop_id: int, kind: str, ref_id: int) -> int:
    query = select(func.count()).where(DueJob.shop_id == shop_id, DueJob.kind == kind,
                                       DueJob.ref_id == ref_id, DueJob.state == "pending")
    return int(session.scalar(query) or 0)


# Finished jobs are history for a while, then rows nobody reads: at 200 messages/s the
# `message.received` jobs alone are 17 million rows a day. Follow-ups stay (the API lists a
# conversation's follow-ups in every state), and so do failed jobs (someone should look).
RETENTION = dt.timedelta(days=14)
KEPT_KINDS = ("follow_up",)
PURGE_BATCH = 5000


def purge_finished(session: Session, *, now: dt.datetime, max_batches: int = 20) -> int:
    """Deletes `done` and `cancelled` jobs due more than RETENTION ago, in batches (served by the
    claim index on state and next_attempt_at, which is due_at for a job that never failed).
    Commits after each batch; returns how many went."""
    cutoff = now - RETENTION
    gone = 0
    for _ in range(max_batches):
        batch = (select(DueJob.id)
                 .where(DueJob.state.in_(("done", "cancelled")), DueJob.next_attempt_at < cutoff,
                        DueJob.kind.not_in(KEPT_KINDS))
                 .limit(PURGE_BATCH).scalar_subquery())
        deleted = session.execute(delete(DueJob).where(DueJob.id.in_(batch))
                                  .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        session.commit()
        gone += int(deleted or 0)
        if not deleted or deleted < PURGE_BATCH:
            break
    return gone
