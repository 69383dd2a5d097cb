"""`POST /api/v1/public/shops/{public_key}/callbacks`: the chat widget's equivalent of
`POST /api/v1/callbacks` — `{"phone", "name"?, "topic"?, "window"?: {"start","end"},
"invitation"?}`, with
the visitor's token in `X-Balie-Visitor` (the call-back joins the visitor's own customer).

It lives here, not in the chat channel, because call-backs reach the customer through other
channels (e-mail) and a channel never imports another."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from balie.callbacks import service as callback_service
from balie.channels.chat import service
from balie.channels.chat.public_api import guard
from balie.proactive import service as proactive_service
from balie.web.context import Context
from balie.web.deps import Ctx

router = APIRouter(prefix="/api/v1/public/shops", tags=["widget"])


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: dt.datetime
    end: dt.datetime


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=40)
    name: str = Field(default="", max_length=200)
    topic: str = Field(default="", max_length=2000)
    window: WindowIn | None = None
    language: str = Field(default="nl", max_length=8)
    invitation: int | None = Field(default=None, description="the call-back invitation it was asked from")


@router.post("/{public_key}/callbacks", status_code=201)
async def request_callback(public_key: str, body: CallbackIn, request: Request, context: Ctx,
                           x_balie_visitor: Annotated[str | None, Header(max_length=200)] = None) -> JSONResponse:
    headers = await run_in_threadpool(guard, context, request, public_key)
    answer = await run_in_threadpool(_callback, context, public_key, body, x_balie_visitor)
    return JSONResponse(answer, status_code=201, headers=headers)


def _callback(context: Context, public_key: str, body: CallbackIn, token: str | None) -> dict[str, object]:
    window = (body.window.start, body.window.end) if body.window else None
    with context.factory() as db:
        shop = service.shop_by_key(db, public_key)
        assert shop is not None  # checked by guard
        shop_id = shop.id

        def work() -> int:
            visitor = service.find_visitor(db, shop_id, token)
            if visitor is None:
                # No chat yet in this browser: the call-back needs someone to belong to.
                _, visitor = service.start_visitor(db, shop_id, body.language)
            customer_id = service.ensure_customer(db, visitor)
            callback = callback_service.request_from_widget(
                db, shop_id, customer_id, body.phone, body.name, body.topic, window, body.language)
            if body.invitation is not None:
                proactive_service.callback_asked(db, visitor, body.invitation, callback.id)
            return callback.id

        callback_id = context.commit_retrying(db, work)
        callback = callback_service.get(db, shop_id, callback_id)
        return {"id": callback.id, "phone": callback.phone, "due_at": callback.due_at.isoformat(),
                "status": callback.status, "promise": callback_service.promise(db, callback)}
