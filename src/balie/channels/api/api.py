"""POST /api/v1/messages: a customer's message arriving through the generic API channel."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from balie.agents.service import actor_for_token
from balie.channels.api.schemas import InboundMessageIn, IngestOut
from balie.conversations.ingest import InboundMessage, IngestResult, ingest
from balie.customers.service import IdentityRef, normalise
from balie.errors import Invalid
from balie.web.context import Context
from balie.web.deps import ApiToken, Ctx

router = APIRouter(prefix="/api/v1", tags=["channels"])


def _identities(body: InboundMessageIn) -> list[IdentityRef]:
    refs = []
    for kind, value in (("email", body.customer.email), ("phone", body.customer.phone),
                        ("external", body.customer.external_id)):
        if value is not None and value.strip():
            refs.append(normalise(kind, value))
    if not refs:
        raise Invalid("customer needs an email, phone or external_id", code="customer_unidentified")
    return refs


@router.post(
    "/messages",
    status_code=201,
    response_model=IngestOut,
    responses={200: {"model": IngestOut, "description": "already received (same external_id)"}},
)
async def post_message(body: InboundMessageIn, token: ApiToken, context: Ctx) -> JSONResponse:
    # The busiest endpoint: the token check, the ingest and the commit share one trip to the
    # thread pool instead of one each (docs/benchmarks.md).
    result = await run_in_threadpool(_receive, context, token, body)
    out = IngestOut(conversation_id=result.conversation_id, message_id=result.message_id,
                    customer_id=result.customer_id)
    return JSONResponse(out.model_dump(), status_code=201 if result.created else 200)


def _receive(context: Context, token: str, body: InboundMessageIn) -> IngestResult:
    with context.factory() as db:
        actor = actor_for_token(db, token)
        inbound = InboundMessage(
            shop_id=actor.shop_id,
            channel="api",
            identities=_identities(body),
            text=body.text,
            subject=body.subject or "",
            customer_name=body.customer.name or "",
            external_id=body.external_id,
        )
        window = dt.timedelta(days=context.settings.reopen_window_days)
        return context.commit_retrying(
            db, lambda: ingest(db, inbound, store=context.store, reopen_window=window))
