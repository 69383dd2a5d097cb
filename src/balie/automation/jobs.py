"""The automation due jobs: an event raised inside someone's transaction (`automation.event`,
run after it commits), a conversation left pending for a rule's N hours, and a call-back that
passed its due time. Each runs inside the worker's transaction that marks the job done."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from balie import clock
from balie.automation import engine
from balie.automation.models import Rule
from balie.callbacks.models import Callback
from balie.conversations.models import Conversation
from balie.db import scoped
from balie.scheduling.models import DueJob

KIND = engine.KIND

__all__ = ["KIND", "fire"]


def fire(session: Session, job: DueJob) -> None:
    payload = job.payload or {}
    trigger = str(payload.get("trigger", ""))
    conversation = session.scalars(scoped(Conversation, job.shop_id).where(Conversation.id == job.ref_id)).first()
    if conversation is None:
        return
    chain = tuple(int(rule_id) for rule_id in payload.get("chain", []))
    key = str(payload.get("event_key") or f"{trigger}:{job.id}")
    if trigger == "pending_for":
        since = dt.datetime.fromisoformat(str(payload["since"]))
        # Still pending, and nobody wrote since: the N hours really passed.
        if conversation.status == "pending" and conversation.last_activity_at <= since:
            engine.run(session, trigger, shop_id=job.shop_id, conversation_id=conversation.id, event_key=key,
                       rule_ids=[int(rule_id) for rule_id in payload.get("rule_ids", [])])
        return
    if trigger == "callback_overdue":
        callback = session.scalars(scoped(Callback, job.shop_id).where(Callback.id == payload.get("callback_id"))
                                   ).first()
        # A try since has moved the due time (a job of its own) or closed the call-back.
        if callback is not None and callback.status == "open" and callback.due_at.isoformat() == payload.get("due"):
            engine.run(session, trigger, shop_id=job.shop_id, conversation_id=conversation.id, event_key=key)
        return
    message_id = payload.get("message_id")
    engine.run(session, trigger, shop_id=job.shop_id, conversation_id=conversation.id, chain=chain, event_key=key,
               message_id=int(message_id) if isinstance(message_id, int) else None)
    became_pending = trigger == "conversation_created" or "status" in payload.get("changed", [])
    if became_pending and conversation.status == "pending":
        _watch_pending(session, conversation)


def _watch_pending(session: Session, conversation: Conversation) -> None:
    """One timer per number of hours the shop's `pending_for` rules wait: when it comes due,
    those rules run, in their order, if the conversation is still pending with no activity since."""
    now = clock.now().replace(microsecond=0)
    rules = session.scalars(scoped(Rule, conversation.shop_id).where(
        Rule.trigger == "pending_for", Rule.enabled.is_(True), Rule.hours.is_not(None)
    ).order_by(Rule.position, Rule.id))
    by_hours: dict[int, list[int]] = {}
    for rule in rules:
        by_hours.setdefault(rule.hours or 0, []).append(rule.id)
    for hours, rule_ids in sorted(by_hours.items()):
        engine.enqueue(session, shop_id=conversation.shop_id, conversation_id=conversation.id, trigger="pending_for",
                       due_at=now + dt.timedelta(hours=hours),
                       event_key=f"pending_for:{conversation.id}:{now.isoformat()}",
                       extra={"rule_ids": rule_ids, "since": now.isoformat()})
