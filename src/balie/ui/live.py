"""Live updates for the open page (server-sent events, cookie auth) and attachment downloads."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from balie.conversations.models import Attachment
from balie.db import get_scoped
from balie.ui.auth import Agent
from balie.ui.routing import UiRoute
from balie.web.deps import DB, Ctx
from balie.web.stream import sse_response

router = APIRouter(route_class=UiRoute, include_in_schema=False)


@router.get("/ui/events")
def events(request: Request, db: DB, signed: Agent) -> StreamingResponse:
    """message.created, conversation.updated, customer.merged, message.delivery for the agent's shop."""
    shop_id = signed.actor.shop_id
    # The stream stays open for hours: give the database connection back now, not when it ends.
    db.close()
    return sse_response(request, request.app.state.context.bus, shop_id)


@router.get("/ui/attachments/{attachment_id}")
def attachment(attachment_id: int, db: DB, signed: Agent, context: Ctx) -> Response:
    found = get_scoped(db, Attachment, signed.actor.shop_id, attachment_id)
    filename = "".join(c if c.isalnum() or c in "._- " else "_" for c in found.filename)[:200] or "attachment"
    return Response(
        context.store.open(found.path),
        media_type=found.content_type,
        # Always a download, never rendered here: a customer's HTML file must not run on our origin.
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Content-Security-Policy": "sandbox; default-src 'none'"},
    )
