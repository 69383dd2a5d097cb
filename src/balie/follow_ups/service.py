"""Follow-ups: an agent asks to be reminded of a conversation at a moment ("check in two
weeks whether the carrier solved it"). Each is a due job of kind `follow_up` about the
conversation; jobs.py says what happens when it is due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from balie import clock
from balie.agents.service import Actor
from balie.conversations import service as conversation_service
from balie.conversations.models import Conversation
from balie.errors import Conflict, Invalid, NotFound
from balie.follow_ups import texts
from balie.inputs import check_text, valid_id
from balie.scheduling import service as scheduling_service
from balie.scheduling.models import DueJob
from balie.shops import service as shop_service

KIND = "follow_up"
MAX_NOTE = 2000
MAX_AHEAD = dt.timedelta(days=731)  # two years, a leap day included
MAX_PENDING = 20  # per conversation: a reminder list, not a calendar


@dataclass(frozen=True)
class FollowUp:
    id: int
    conversation_id: int
    due_at: dt.datetime
    note: str
    agent_id: int | None
    agent_name: str
    state: str  # pending, done, failed or cancelled
    created_at: dt.datetime
    done_at: dt.datetime | None


def from_job(job: DueJob) -> FollowUp:
    payload = job.payload or {}
    agent_id = payload.get("agent_id")
    return FollowUp(
        id=job.id, conversation_id=job.ref_id, due_at=job.due_at, note=str(payload.get("note", "")),
        agent_id=agent_id if isinstance(agent_id, int) else None, agent_name=str(payload.get("agent_name", "")),
        state=job.state, created_at=job.created_at, done_at=job.done_at,
    )


def check_note(note: str) -> str:
    note = note.strip()
    if not note:
        raise Invalid("a follow-up needs a note: what to check", code="invalid_note")
    if len(note) > MAX_NOTE:
        raise Invalid(f"a follow-up note is at most {MAX_NOTE} characters", code="invalid_note")
    check_text(note, "note")
    return note


def check_due(due_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    if due_at.tzinfo is None:
        raise Invalid("due_at needs a timezone (for example 2026-12-01T09:00:00+01:00)", code="invalid_follow_up")
    due_at = due_at.astimezone(dt.UTC).replace(microsecond=0)  # a repeat of the request is the same moment
    if due_at <= now:
        raise Invalid("due_at must be in the future", code="invalid_follow_up")
    if due_at > now + MAX_AHEAD:
        raise Invalid("due_at is at most two years ahead", code="invalid_follow_up")
    return due_at


def schedule(session: Session, actor: Actor, conversation_id: int, *, due_at: dt.datetime,
             note: str) -> tuple[FollowUp, bool]:
    """The follow-up and whether it is new. The same request again (same moment, same note,
    same agent) returns the first one; another note for the same moment is a conflict."""
    conversation = conversation_service.get(session, actor, conversation_id)  # another shop's: 404
    note = check_note(note)
    due_at = check_due(due_at, clock.now())
    job, created = scheduling_service.schedule(
        session, shop_id=actor.shop_id, kind=KIND, ref_id=conversation.id, due_at=due_at,
        payload={"note": note, "agent_id": actor.agent_id, "agent_name": actor.name},
    )
    if not created:
        if job.state == "pending" and job.payload.get("note") == note and job.payload.get("agent_id") == actor.agent_id:
            return from_job(job), False
        raise Conflict("this conversation already has a follow-up at that moment; cancel it or pick another time",
                       code="follow_up_exists")
    waiting = scheduling_service.pending_count(session, shop_id=actor.shop_id, kind=KIND, ref_id=conversation.id)
    if waiting > MAX_PENDING:
        raise Conflict(f"a conversation has at most {MAX_PENDING} follow-ups waiting", code="too_many_follow_ups")
    shop = shop_service.get(session, actor.shop_id)
    when = texts.when(shop.language, due_at, shop.time_zone)
    conversation_service.note(session, actor, conversation.id,
                              texts.text(shop.language, "scheduled", when=when, note=note))
    return from_job(job), True


def list_for(session: Session, actor: Actor, conversation_id: int, *, state: str | None = None) -> list[FollowUp]:
    return of_conversation(session, conversation_service.get(session, actor, conversation_id), state=state)


def of_conversation(session: Session, conversation: Conversation, *, state: str | None = None) -> list[FollowUp]:
    """For a conversation the caller has already loaded in its shop."""
    jobs = scheduling_service.for_ref(session, shop_id=conversation.shop_id, kind=KIND, ref_id=conversation.id,
                                      state=state)
    return [from_job(job) for job in jobs]


def cancel(session: Session, actor: Actor, conversation_id: int, follow_up_id: int) -> FollowUp:
    """Cancelling twice is fine; one that is already done is a conflict."""
    conversation = conversation_service.get(session, actor, conversation_id)
    if not valid_id(follow_up_id):
        raise NotFound(f"follow-up {follow_up_id} not found")
    job = scheduling_service.get(session, shop_id=actor.shop_id, kind=KIND, job_id=follow_up_id)
    if job.ref_id != conversation.id:
        raise NotFound(f"follow-up {follow_up_id} not found")
    was = job.state
    job = scheduling_service.cancel(session, shop_id=actor.shop_id, kind=KIND, job_id=job.id)
    if was != "cancelled":
        shop = shop_service.get(session, actor.shop_id)
        conversation_service.note(session, actor, conversation.id, texts.text(
            shop.language, "cancelled", when=texts.when(shop.language, job.due_at, shop.time_zone)))
    return from_job(job)
