"""Delivers the webhooks automation rules call, after the commit that queued them and outside
any transaction (a due job's handler must not touch the network: scheduling/runner.py).

A queued call is a due job of kind `automation.webhook` that no handler claims; this module
claims it with a lease (SKIP LOCKED on PostgreSQL, a conditional update everywhere), commits,
POSTs, and records the outcome in a second transaction. A worker killed mid-call leaves the
lease to expire and the call is made again with the same `X-Balie-Delivery` id. The body is
signed like every Balie webhook: `X-Balie-Signature: sha256=HMAC-SHA256(secret, "<timestamp>.<body>")`
with the shop's webhook secret.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from balie import clock, netguard, security
from balie.automation.actions import WEBHOOK_KIND
from balie.automation.models import RuleRun
from balie.scheduling.models import DueJob
from balie.scheduling.runner import backoff
from balie.shops.models import Shop

log = logging.getLogger(__name__)
LEASE = dt.timedelta(seconds=120)
MAX_ATTEMPTS = 8
RETRY_STATUSES = {408, 409, 425, 429}
BATCH = 10


@dataclass(frozen=True)
class Call:
    job_id: int
    shop_id: int
    run_id: int
    attempts: int
    url: str
    body: bytes
    secret: str


class Permanent(Exception):
    """A failure that trying again will not fix (refused address, a 4xx answer)."""


def _claim(session: Session, limit: int) -> list[Call]:
    now = clock.now()
    due = (DueJob.kind == WEBHOOK_KIND) & (DueJob.state == "pending") & (DueJob.next_attempt_at <= now)
    query = select(DueJob.id).where(due).order_by(DueJob.next_attempt_at, DueJob.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    calls = []
    for job_id in session.scalars(query).all():
        taken = session.execute(update(DueJob).where(DueJob.id == job_id, due)
                                .values(next_attempt_at=now + LEASE, attempts=DueJob.attempts + 1)
                                .execution_options(synchronize_session=False))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue
        job = session.get_one(DueJob, job_id)
        session.refresh(job)
        payload: dict[str, Any] = job.payload or {}
        secret = session.scalar(select(Shop.webhook_secret).where(Shop.id == job.shop_id)) or ""
        calls.append(Call(job.id, job.shop_id, job.ref_id, job.attempts, str(payload.get("url", "")),
                          json.dumps(payload.get("body", {}), separators=(",", ":")).encode(), secret))
    return calls


def _post(call: Call, *, allow_private: bool, timeout: float) -> str:
    problem = None if allow_private else netguard.private_target(call.url)
    if problem:
        raise Permanent(f"webhook refused: {problem}")
    timestamp = str(int(clock.now().timestamp()))
    headers = {"Content-Type": "application/json", "User-Agent": "Balie-Webhook/1",
               "X-Balie-Delivery": f"automation-{call.job_id}", "X-Balie-Timestamp": timestamp,
               "X-Balie-Signature": security.sign(call.secret, call.body, timestamp)}
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.post(call.url, content=call.body, headers=headers)
    except httpx.HTTPError as error:
        raise RuntimeError(f"webhook unreachable: {error.__class__.__name__}") from error
    if response.is_success:
        return f"delivered ({response.status_code})"
    reason = f"webhook answered {response.status_code}"
    if response.status_code >= 500 or response.status_code in RETRY_STATUSES:
        raise RuntimeError(reason)
    raise Permanent(reason)


def _record(session: Session, call: Call, *, ok: bool, detail: str, final: bool) -> None:
    now = clock.now()
    values: dict[str, Any] = {"last_error": None if ok else detail[:1000]}
    if ok or final:
        values.update(state="done" if ok else "failed", done_at=now)
    else:
        values.update(next_attempt_at=now + backoff(call.attempts))
    session.execute(update(DueJob).where(DueJob.id == call.job_id).values(**values)
                    .execution_options(synchronize_session=False))
    if ok or final:  # the conversation's rule log says how it ended
        run = session.get(RuleRun, call.run_id)
        if run is not None:
            run.results = [*run.results, {"action": "webhook", "ok": ok, "detail": detail[:300]}]


def deliver_due(factory: sessionmaker[Session], *, allow_private: bool = False, timeout: float = 10.0,
                limit: int = BATCH) -> int:
    with factory() as session, session.begin():
        calls = _claim(session, limit)
    for call in calls:
        try:
            detail, ok, final = _post(call, allow_private=allow_private, timeout=timeout), True, True
        except Permanent as error:
            detail, ok, final = str(error), False, True
        except Exception as error:
            detail, ok, final = str(error), False, call.attempts >= MAX_ATTEMPTS
            log.warning("automation webhook %s failed (attempt %s): %s", call.job_id, call.attempts, detail)
        with factory() as session, session.begin():
            _record(session, call, ok=ok, detail=detail, final=final)
    return len(calls)
