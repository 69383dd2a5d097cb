"""/api/v1/callbacks: ask for a call-back, read the queue, record how each try went."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from balie import clock
from balie.agents.service import actor_for_token
from balie.callbacks import service
from balie.callbacks.models import Callback, CallbackAttempt
from balie.callbacks.schemas import (
    AttemptIn,
    AttemptOut,
    CallbackIn,
    CallbackOut,
    CallbackPage,
    PromiseOut,
    WindowOut,
)
from balie.customers.schemas import TimelineEntry
from balie.shops.models import Shop
from balie.web.context import Context
from balie.web.deps import DB, ApiActor, ApiToken, Ctx

router = APIRouter(prefix="/api/v1", tags=["callbacks"])


def callback_out(callback: Callback, rules: service.Limits, time_zone: str, history: list[CallbackAttempt],
                 customer_name: str | None = None) -> CallbackOut:
    window = (WindowOut(start=callback.window_start, end=callback.window_end)
              if callback.window_start is not None and callback.window_end is not None else None)
    return CallbackOut(
        id=callback.id, phone=callback.phone, due_at=callback.due_at, status=callback.status,
        overdue=service.is_overdue(callback, clock.now()),
        promise=PromiseOut(**service.promise_with(callback, rules, time_zone)),
        name=callback.name, topic=callback.topic, window=window, attempts=callback.attempts,
        max_attempts=rules.attempts, source=callback.source, language=callback.language,
        customer_id=callback.customer_id, customer_name=customer_name, conversation_id=callback.conversation_id,
        created_at=callback.created_at, closed_at=callback.closed_at,
        history=[AttemptOut(outcome=a.outcome, note=a.note, agent_id=a.agent_id, created_at=a.created_at)
                 for a in history],
    )


def detail(db: Session, shop_id: int, callback: Callback) -> CallbackOut:
    rules = service.limits(db, shop_id)
    shop = db.get_one(Shop, shop_id)
    history = service.attempts_of(db, shop_id, [callback.id]).get(callback.id, [])
    return callback_out(callback, rules, shop.time_zone, history)


@router.post("/callbacks", status_code=201, response_model=CallbackOut,
             responses={200: {"model": CallbackOut, "description": "this number already has an open call-back"}})
async def post_callback(body: CallbackIn, token: ApiToken, context: Ctx) -> JSONResponse:
    out, created = await run_in_threadpool(_create, context, token, body)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


def _create(context: Context, token: str, body: CallbackIn) -> tuple[CallbackOut, bool]:
    with context.factory() as db:
        actor = actor_for_token(db, token)
        request = service.Request(
            phone=body.phone, name=body.name or "", topic=body.topic or "",
            window=(body.window.start, body.window.end) if body.window else None, email=body.email,
            conversation_id=body.conversation_id, language=body.language, source="api",
        )
        window = dt.timedelta(days=context.settings.reopen_window_days)
        result = context.commit_retrying(db, lambda: service.create(
            db, shop_id=actor.shop_id, request=request, actor=actor, reopen_window=window))
        return detail(db, actor.shop_id, result.callback), result.created


@router.get("/callbacks", response_model=CallbackPage)
def list_callbacks(
    db: DB,
    actor: ApiActor,
    status: Annotated[str, Query(description="open (default), reached, wrong_number, gave_up, cancelled or all")]
    = "open",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> CallbackPage:
    """The queue: the earliest due first; `overdue` marks promises already broken."""
    page = service.queue(db, actor.shop_id, status=status, cursor=cursor, limit=limit)
    rules = service.limits(db, actor.shop_id)
    shop = db.get_one(Shop, actor.shop_id)
    history = service.attempts_of(db, actor.shop_id, [item.callback.id for item in page.items])
    return CallbackPage(
        items=[callback_out(item.callback, rules, shop.time_zone, history.get(item.callback.id, []),
                            item.customer_name) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/callbacks/{callback_id}", response_model=CallbackOut)
def get_callback(callback_id: int, db: DB, actor: ApiActor) -> CallbackOut:
    return detail(db, actor.shop_id, service.get(db, actor.shop_id, callback_id))


@router.post("/callbacks/{callback_id}/attempts", status_code=201, response_model=CallbackOut)
def post_attempt(callback_id: int, body: AttemptIn, db: DB, actor: ApiActor) -> CallbackOut:
    """One try and its outcome; answers the call-back as it is now."""
    callback = service.record_attempt(db, actor, callback_id, body.outcome, body.note or "")
    db.commit()
    return detail(db, actor.shop_id, callback)


def timeline_entries(db: Session, shop_id: int, customer_id: int) -> list[TimelineEntry]:
    """The customer's call-backs for their timeline, each at its latest change, with every try."""
    callbacks = service.for_customer(db, shop_id, customer_id)
    if not callbacks:
        return []
    rules = service.limits(db, shop_id)
    time_zone = db.get_one(Shop, shop_id).time_zone
    history = service.attempts_of(db, shop_id, [callback.id for callback in callbacks])
    entries = []
    for callback in callbacks:
        tries = history.get(callback.id, [])
        at = max([callback.created_at, *(attempt.created_at for attempt in tries)])
        entries.append(TimelineEntry(type="callback", at=at,
                                     callback=callback_out(callback, rules, time_zone, tries)))
    return entries
