"""Live updates for the open page (server-sent events, cookie auth) and downloads of what customers sent."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from balie.agents import service as agent_service
from balie.conversations.models import Attachment, Message
from balie.db import get_scoped
from balie.errors import NotFound
from balie.ui.auth import Agent
from balie.ui.routing import UiRoute
from balie.web.deps import DB, Ctx
from balie.web.downloads import download
from balie.web.stream import sse_response

router = APIRouter(route_class=UiRoute, include_in_schema=False)
log = logging.getLogger(__name__)


@router.get("/ui/events")
def events(request: Request, db: DB, signed: Agent) -> StreamingResponse:
    """message.created, conversation.updated, customer.merged, message.delivery for the agent's shop."""
    shop_id, agent_id = signed.actor.shop_id, signed.actor.agent_id
    # The stream stays open for hours: give the database connection back now, not when it ends.
    db.close()
    factory = request.app.state.context.factory

    def touch() -> None:
        with factory() as session:
            if agent_service.touch_presence(session, agent_id):
                session.commit()

    async def still_here() -> None:
        """An agent with Balie open in a tab stays online while the tab listens."""
        try:
            await run_in_threadpool(touch)
        except SQLAlchemyError:  # a database hiccup must not end the agent's live updates
            log.warning("could not record the presence of agent %s", agent_id, exc_info=True)

    return sse_response(request, request.app.state.context.bus, shop_id, still_here)


@router.get("/ui/attachments/{attachment_id}")
def attachment(attachment_id: int, db: DB, signed: Agent, context: Ctx) -> Response:
    found = get_scoped(db, Attachment, signed.actor.shop_id, attachment_id)
    return download(context.store, found.path, filename=found.filename, content_type=found.content_type)


@router.get("/ui/messages/{message_id}/raw")
def raw_message(message_id: int, db: DB, signed: Agent, context: Ctx) -> Response:
    """The original of a received mail (.eml), as it arrived."""
    message = get_scoped(db, Message, signed.actor.shop_id, message_id)
    if not message.raw_path:
        raise NotFound(f"message {message_id} has no original")
    return download(context.store, message.raw_path, filename=f"message-{message.id}.eml",
                    content_type="message/rfc822")
