"""SLA timers on conversations: started, paused, resumed and met as the conversation moves.

The timers live on the conversation row: `sla_timers` (JSON, one entry per kind, the whole
`policy.Timer`) and, derived from it in `_store`, the columns the API and the inbox read (the
three running due moments, the earliest due and "due soon" moments, paused and met moments).

- A customer's message starts the first-response timer (or the next-response one once we
  answered) from the message's time, and the resolution timer when the policy has one.
- An agent's reply meets the response timers (`on_reply`).
- `pending` and `snoozed` pause every running timer, `open` resumes them with what was left;
  `resolved` and `closed` meet every timer still open (`on_status`).
- A priority change re-times the timers by the new priority's targets (`on_priority`).

Each timer that starts or resumes puts `sla.due_soon` and `sla.breached` jobs on the schedule;
jobs that no longer match a running moment are cancelled (jobs.py checks again when they fire).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session

from balie import clock
from balie.conversations.models import Conversation, Message
from balie.events import Event, publish_on_commit
from balie.hours import service as hours_service
from balie.hours.schedule import Schedule
from balie.scheduling import service as scheduling_service
from balie.scheduling.models import DueJob
from balie.shops import service as shop_service
from balie.sla import policy, targets
from balie.sla.policy import Target, Timer

DUE_SOON = "sla.due_soon"
BREACHED = "sla.breached"
RESPONSE_KINDS = ("first_response", "next_response")
STOPPED = ("pending", "snoozed")
DONE = ("resolved", "closed")
# Whose opening hours count for a conversation's channel: the written channels without hours
# of their own (API, web form, social) are answered with the e-mail.
HOURS_OF = {"email": "email", "chat": "chat", "phone": "phone", "whatsapp": "whatsapp",
            "api": "email", "form": "email", "social": "email"}


# --- the state, from the columns alone (the inbox list reads no more) ---------------------------


def state_of(conversation: Conversation, now: dt.datetime) -> str | None:
    """on_track, due_soon, breached, paused or met; None when no promise was ever made."""
    if conversation.sla_due_at is not None:
        if now >= conversation.sla_due_at:
            return "breached"
        warn = conversation.sla_warn_at
        return "due_soon" if warn is not None and now >= warn else "on_track"
    if conversation.sla_paused_at is not None:
        return "paused"
    if conversation.sla_met_at is not None:
        return "met"
    return None


def expected_answer_at(session: Session, conversation: Conversation) -> dt.datetime | None:
    """When the customer can expect an answer: the running first- or next-response due time
    (None when no timer runs). The automatic acknowledgement names this moment."""
    return conversation.first_response_due_at or conversation.next_response_due_at


# --- timers in and out of the row --------------------------------------------------------------


def _moment(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC) if isinstance(value, str) else None


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def timers(conversation: Conversation) -> dict[str, Timer]:
    found: dict[str, Timer] = {}
    for kind, raw in (conversation.sla_timers or {}).items():
        if kind not in policy.KINDS or not isinstance(raw, dict):
            continue
        remaining = raw.get("remaining")
        found[kind] = Timer(
            kind=kind, target=Target(int(raw["minutes"]), bool(raw["business"])),
            due_at=_moment(raw.get("due_at")), warn_at=_moment(raw.get("warn_at")),
            calendar_fallback=bool(raw.get("calendar_fallback")),
            remaining_minutes=float(remaining) if remaining is not None else None, met_at=_moment(raw.get("met_at")),
        )
    return found


def _running(timer: Timer) -> bool:
    return timer.met_at is None and timer.due_at is not None


def _paused(timer: Timer) -> bool:
    return timer.met_at is None and timer.due_at is None and timer.remaining_minutes is not None


def _whole_seconds(timer: Timer) -> Timer:
    """Moments to the second: the job that fires at one compares it with the stored one."""
    def cut(moment: dt.datetime | None) -> dt.datetime | None:
        return moment.replace(microsecond=0) if moment is not None else None
    return replace(timer, due_at=cut(timer.due_at), warn_at=cut(timer.warn_at))


def _store(conversation: Conversation, found: dict[str, Timer], now: dt.datetime) -> None:
    conversation.sla_timers = {kind: {
        "minutes": timer.target.minutes, "business": timer.target.business, "due_at": _iso(timer.due_at),
        "warn_at": _iso(timer.warn_at), "calendar_fallback": timer.calendar_fallback,
        "remaining": timer.remaining_minutes, "met_at": _iso(timer.met_at),
    } for kind, timer in found.items()} or None
    running = {kind: timer for kind, timer in found.items() if _running(timer)}
    conversation.first_response_due_at = running["first_response"].due_at if "first_response" in running else None
    conversation.next_response_due_at = running["next_response"].due_at if "next_response" in running else None
    conversation.resolution_due_at = running["resolution"].due_at if "resolution" in running else None
    conversation.sla_due_at = min((t.due_at for t in running.values() if t.due_at), default=None)
    conversation.sla_warn_at = min((t.warn_at for t in running.values() if t.warn_at), default=None)
    paused = [timer for timer in found.values() if _paused(timer)]
    conversation.sla_paused_at = (conversation.sla_paused_at or now) if paused and not running else None
    met = [timer.met_at for timer in found.values() if timer.met_at is not None]
    conversation.sla_met_at = max(met) if met else None
    conversation.sla_calendar_fallback = any(t.calendar_fallback for t in found.values() if t.met_at is None)


def _schedule_of(session: Session, conversation: Conversation, at: dt.datetime) -> Schedule:
    shop = shop_service.get(session, conversation.shop_id)
    return hours_service.load(session, conversation.shop_id, HOURS_OF.get(conversation.channel, "email"), shop=shop,
                              at=at)


# --- due jobs ----------------------------------------------------------------------------------


def _sync_jobs(session: Session, conversation: Conversation, found: dict[str, Timer],
               fresh: dict[str, dt.datetime]) -> None:
    """Cancels the pending jobs no running timer asks for any more, and schedules those of the
    timers in `fresh` (kind → the moment it started or resumed). A moment not after that start
    is not scheduled: a timer resumed already breached (or past "due soon") said so before."""
    running = [timer for timer in found.values() if _running(timer)]
    dues = sorted({timer.due_at for timer in running if timer.due_at is not None})
    warns = sorted({timer.warn_at for timer in running if timer.warn_at is not None})
    stale = or_(and_(DueJob.kind == BREACHED, DueJob.due_at.not_in(dues)),
                and_(DueJob.kind == DUE_SOON, DueJob.due_at.not_in(warns)))
    session.execute(
        update(DueJob)
        .where(DueJob.shop_id == conversation.shop_id, DueJob.kind.in_((DUE_SOON, BREACHED)),
               DueJob.ref_id == conversation.id, DueJob.state == "pending", stale)
        .values(state="cancelled", done_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    for kind, started in fresh.items():
        timer = found.get(kind)
        if timer is None or not _running(timer):
            continue
        for job_kind, moment in ((DUE_SOON, timer.warn_at), (BREACHED, timer.due_at)):
            if moment is not None and moment > started:
                scheduling_service.ensure(session, shop_id=conversation.shop_id, kind=job_kind,
                                          ref_id=conversation.id, due_at=moment, payload={"kind": kind})


def _changed(session: Session, conversation: Conversation) -> None:
    publish_on_commit(session, Event("conversation.updated", conversation.shop_id,
                                     {"conversation_id": conversation.id, "changed": ["sla"]}))


# --- what moves the timers ---------------------------------------------------------------------


def on_customer_message(session: Session, conversation: Conversation, message: Message) -> None:
    """Starts the first-response timer, or the next-response one after an answer."""
    if conversation.status in DONE:
        return  # a message that did not reopen it promises nothing
    now = clock.now()
    at = min(message.created_at, now)
    found = timers(conversation)
    shop_policy = targets.load(session, conversation.shop_id)
    schedule: Schedule | None = None
    fresh: dict[str, dt.datetime] = {}
    if conversation.status not in STOPPED and any(_paused(timer) for timer in found.values()):
        resume_at = max(at, conversation.sla_paused_at or at)
        schedule = _schedule_of(session, conversation, resume_at)
        for kind, timer in found.items():
            if _paused(timer):
                found[kind] = _whole_seconds(policy.resume(timer, schedule, resume_at, shop_policy.near))
                fresh[kind] = resume_at
    response = "first_response" if conversation.first_response_at is None else "next_response"
    waiting = any(_running(found[kind]) or _paused(found[kind]) for kind in RESPONSE_KINDS if kind in found)
    resolving = "resolution" in found and found["resolution"].met_at is None
    for kind, already in ((response, waiting), ("resolution", resolving)):
        # A customer who already waits keeps the clock that runs from their first message.
        target = shop_policy.target(conversation.channel, conversation.priority, kind)
        if target is None or already:
            continue
        schedule = schedule or _schedule_of(session, conversation, at)
        found[kind] = _whole_seconds(policy.start(kind, target, schedule, at, shop_policy.near))
        fresh[kind] = at
    if not fresh:
        return
    if conversation.status in STOPPED:  # paused again before this job ran
        schedule = schedule or _schedule_of(session, conversation, now)
        found = {kind: policy.pause(timer, schedule, now) for kind, timer in found.items()}
        conversation.sla_paused_at, fresh = now, {}
    _store(conversation, found, now)
    _sync_jobs(session, conversation, found, fresh)
    _changed(session, conversation)


def on_reply(session: Session, conversation: Conversation, now: dt.datetime) -> None:
    """An agent's reply (not an automatic acknowledgement) keeps the response promises."""
    found = timers(conversation)
    kept = [kind for kind in RESPONSE_KINDS if kind in found and found[kind].met_at is None]
    if not kept:
        return
    for kind in kept:
        found[kind] = policy.meet(found[kind], now)
    _store(conversation, found, now)
    _sync_jobs(session, conversation, found, {})


def on_status(session: Session, conversation: Conversation, before: str, now: dt.datetime) -> None:
    """After the conversation's status changed from `before` to what it is now."""
    after = conversation.status
    if after == before:
        return
    found = timers(conversation)
    if not found:
        return
    fresh: dict[str, dt.datetime] = {}
    if after in DONE:
        # Done: the resolution promise is kept, and nobody waits for an answer any more.
        found = {kind: policy.meet(timer, now) if timer.met_at is None else timer for kind, timer in found.items()}
    elif after in STOPPED:
        if not any(_running(timer) for timer in found.values()):
            return
        conversation.sla_paused_at = now
        schedule = _schedule_of(session, conversation, now)
        found = {kind: policy.pause(timer, schedule, now) for kind, timer in found.items()}
    elif any(_paused(timer) for timer in found.values()):
        schedule = _schedule_of(session, conversation, now)
        near = targets.load(session, conversation.shop_id).near
        for kind, timer in found.items():
            if _paused(timer):
                found[kind] = _whole_seconds(policy.resume(timer, schedule, now, near))
                fresh[kind] = now
    else:
        return
    _store(conversation, found, now)
    _sync_jobs(session, conversation, found, fresh)


def on_priority(session: Session, conversation: Conversation, before: str, now: dt.datetime) -> None:
    """Re-times the open promises by the new priority's targets: what was used of the old target
    counts against the new one (a timer with no target at the new priority stops). Promises the
    new priority adds start with the customer's next message."""
    if conversation.priority == before:
        return
    found = timers(conversation)
    open_kinds = [kind for kind, timer in found.items() if timer.met_at is None]
    if not open_kinds:
        return
    shop_policy = targets.load(session, conversation.shop_id)
    schedule = _schedule_of(session, conversation, now)
    fresh: dict[str, dt.datetime] = {}
    for kind in open_kinds:
        timer = found[kind]
        target = shop_policy.target(conversation.channel, conversation.priority, kind)
        if target is None:
            del found[kind]
            continue
        stopped = policy.pause(timer, schedule, now) if _running(timer) else timer
        used = timer.target.minutes - (stopped.remaining_minutes or 0.0)
        retimed = replace(stopped, target=target, remaining_minutes=max(0.0, target.minutes - used))
        if _running(timer):
            found[kind] = _whole_seconds(policy.resume(retimed, schedule, now, shop_policy.near))
            fresh[kind] = now
        else:
            found[kind] = retimed
    _store(conversation, found, now)
    _sync_jobs(session, conversation, found, fresh)
