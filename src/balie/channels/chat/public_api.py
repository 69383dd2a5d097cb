"""What the widget asks for when nobody can chat right now: a message that is answered by
e-mail (here) or a call-back (`balie.callbacks.widget_api`, which uses `guard`). Public (the
visitor is not logged in), so: the shop's origin list, limits per address, and nothing here
trusts the visitor more than an e-mail from them.

- `POST /api/v1/public/shops/{public_key}/messages` — leave a message:
  `{"email", "name"?, "text", "client_id"}`. It becomes an e-mail conversation for that address
  (answered by e-mail, like a mail to the shop). The visitor's chat is never linked to it: an
  address typed into a form proves nothing, so it must not reveal anyone's chat history.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from balie.channels.chat import service
from balie.conversations.ingest import InboundMessage, ingest
from balie.customers.service import normalise
from balie.errors import BalieError, Invalid, NotFound
from balie.web.context import Context
from balie.web.deps import Ctx

router = APIRouter(prefix="/api/v1/public/shops", tags=["widget"])
REQUESTS_PER_MINUTE = 10  # per address: a person asks once or twice, a script more


class LeaveMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    text: str = Field(max_length=service.MAX_TEXT)
    client_id: str = Field(max_length=service.MAX_CLIENT_ID)
    language: str = Field(default="nl", max_length=8)


def guard(context: Context, request: Request, public_key: str) -> dict[str, str]:
    """The shop's CORS answer headers; raises for unknown shops, refused sites and floods."""
    address = request.client.host if request.client else "unknown"
    if context.limiter.hit(f"widget:public:{address}", 60) > REQUESTS_PER_MINUTE:
        raise BalieError("too many requests; try again in a minute", code="rate_limited", status=429)
    origin = request.headers.get("origin")
    with context.factory() as db:
        shop = service.shop_by_key(db, public_key)
        if shop is None:
            raise NotFound("no shop with this key")
        widget = service.settings_for(db, shop.id)
        db.commit()
        if not widget.enabled or not service.origin_allowed(widget, origin):
            raise BalieError("this site may not use the shop's widget", code="origin_refused", status=403)
    return {"Access-Control-Allow-Origin": origin or "*", "Vary": "Origin"}


@router.post("/{public_key}/messages", status_code=201)
async def leave_message(public_key: str, body: LeaveMessageIn, request: Request, context: Ctx,
                        x_balie_visitor: Annotated[str | None, Header(max_length=200)] = None) -> JSONResponse:
    headers = await run_in_threadpool(guard, context, request, public_key)
    answer, created = await run_in_threadpool(_leave, context, public_key, body, x_balie_visitor)
    return JSONResponse(answer, status_code=201 if created else 200, headers=headers)


def _leave(context: Context, public_key: str, body: LeaveMessageIn,
           token: str | None) -> tuple[dict[str, object], bool]:
    text = body.text.strip()
    if not text:
        raise Invalid("the message is empty", code="empty_message")
    client_id = body.client_id.strip()
    if not client_id:
        raise Invalid("client_id is required", code="invalid_client_id")
    email = normalise("email", body.email)
    with context.factory() as db:
        shop = service.shop_by_key(db, public_key)
        assert shop is not None  # checked by guard
        visitor = service.find_visitor(db, shop.id, token)
        # Dedupe per browser when it has a token, else per address: a double click stores one.
        origin_key = visitor.key if visitor else email.value
        subject = "Bericht via de website" if body.language != "en" else "Message from the website"
        inbound = InboundMessage(
            shop_id=shop.id, channel="email", identities=[email], text=text, subject=subject,
            customer_name=body.name.strip(), external_id=f"widget:{origin_key}:{client_id}",
            explicit_threading=True,
        )
        window = dt.timedelta(days=context.settings.reopen_window_days)
        result = context.commit_retrying(db, lambda: ingest(db, inbound, store=context.store, reopen_window=window))
    # Nothing about the conversation goes back: the answer comes by e-mail.
    return {"status": "received", "email": email.value}, result.created
