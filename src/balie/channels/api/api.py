"""POST /api/v1/messages: a customer's message arriving through the generic API channel."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from balie.channels.api.schemas import InboundMessageIn, IngestOut
from balie.conversations.ingest import InboundMessage, IngestResult, ingest
from balie.customers.service import IdentityRef, normalise
from balie.errors import Invalid
from balie.web.deps import DB, ApiActor, Ctx

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
def post_message(body: InboundMessageIn, db: DB, actor: ApiActor, context: Ctx) -> JSONResponse:
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
    result: IngestResult
    with context.ingest_lock:
        try:
            result = ingest(db, inbound, store=context.store, reopen_window=window)
            db.commit()
        except IntegrityError:
            # Someone else stored the same message (or created the same customer) just now:
            # start again; this time the dedupe or the customer lookup finds their row.
            db.rollback()
            result = ingest(db, inbound, store=context.store, reopen_window=window)
            db.commit()
    out = IngestOut(conversation_id=result.conversation_id, message_id=result.message_id,
                    customer_id=result.customer_id)
    return JSONResponse(out.model_dump(), status_code=201 if result.created else 200)
