"""Raising an automation event for later: a due job of kind `automation.event` that the worker
runs after the caller's transaction commits (automation/jobs.py). Kept apart from the engine
so that the services raising events (conversations, callbacks) import only this."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie import clock
from balie.automation import conditions
from balie.automation.models import Rule
from balie.callbacks.models import Callback
from balie.scheduling import service as scheduling_service
from balie.scheduling.models import DueJob

KIND = "automation.event"


def enqueue(session: Session, *, shop_id: int, conversation_id: int, trigger: str, chain: Sequence[int] = (),
            changed: Sequence[str] = (), event_key: str | None = None, due_at: dt.datetime | None = None,
            extra: dict[str, Any] | None = None) -> DueJob:
    """Raises `trigger` for the conversation after the caller's transaction commits (or at
    `due_at`): an `automation.event` due job, so the rules run once, in a worker, even when the
    process stops before they do. Called inside agents' transactions; costs one insert."""
    conditions.check_trigger(trigger)
    key = event_key or f"{trigger}:{conversation_id}:{secrets.token_hex(8)}"
    payload = {"trigger": trigger, "chain": list(chain), "changed": list(changed), "event_key": key, **(extra or {})}
    moment = due_at or clock.now()
    # Two events for one conversation at one moment are two jobs: the key has the moment in it.
    for offset in range(100):
        job, created = scheduling_service.schedule(session, shop_id=shop_id, kind=KIND, ref_id=conversation_id,
                                                   due_at=moment + dt.timedelta(microseconds=offset), payload=payload)
        if created or job.payload.get("event_key") == key:
            return job
    raise RuntimeError(f"too many automation events for conversation {conversation_id} at {moment.isoformat()}")


def watch_callback(session: Session, callback: Callback) -> None:
    """Called where a call-back gets its due time (new, or moved after a try): at that moment,
    if it is still open and not moved again, `callback_overdue` is raised on its conversation."""
    if callback.conversation_id is None or callback.status != "open":
        return
    enqueue(session, shop_id=callback.shop_id, conversation_id=callback.conversation_id,
            trigger="callback_overdue", due_at=callback.due_at,
            event_key=f"callback_overdue:{callback.id}:{callback.due_at.isoformat()}",
            extra={"callback_id": callback.id, "due": callback.due_at.isoformat()})


def promise_broken(session: Session, *, shop_id: int, conversation_id: int, breach_id: int, generation: int) -> None:
    """A delivery promise broke and Balie acted on it (commerce/promises): `promise_broken` is
    raised, once per breach, on the conversation the customer was told in (or the agents' one)."""
    if has_rules(session, shop_id, ("promise_broken",)):
        enqueue(session, shop_id=shop_id, conversation_id=conversation_id, trigger="promise_broken",
                event_key=f"promise_broken:{breach_id}", extra={"breach_id": breach_id, "generation": generation})


def has_rules(session: Session, shop_id: int, triggers: Sequence[str]) -> bool:
    """Whether the shop has an enabled rule for one of `triggers`: one small read, so that an
    agent's change in a shop without rules queues nothing."""
    found = session.scalar(select(Rule.id).where(Rule.shop_id == shop_id, Rule.enabled.is_(True),
                                                 Rule.trigger.in_(triggers)).limit(1))
    return found is not None


def conversation_changed(session: Session, *, shop_id: int, conversation_id: int, changed: Sequence[str]) -> None:
    """An agent changed the conversation: `conversation_updated` is raised for after the commit."""
    if has_rules(session, shop_id, ("conversation_updated", "pending_for")):
        enqueue(session, shop_id=shop_id, conversation_id=conversation_id, trigger="conversation_updated",
                changed=changed)


def conversation_started(session: Session, *, shop_id: int, conversation_id: int) -> None:
    """An agent started the conversation: `conversation_created` is raised for after the commit."""
    if has_rules(session, shop_id, ("conversation_created", "pending_for")):
        enqueue(session, shop_id=shop_id, conversation_id=conversation_id, trigger="conversation_created",
                event_key=f"conversation_created:{conversation_id}")
