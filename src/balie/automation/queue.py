"""Raising an automation event for later: a due job of kind `automation.event` that the worker
runs after the caller's transaction commits (automation/jobs.py). Kept apart from the engine
so that the services raising events (conversations, callbacks) import only this."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from balie import clock
from balie.automation import conditions
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
