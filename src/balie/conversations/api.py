"""/api/v1/conversations: list, read, change, reply, note."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from balie import clock
from balie.conversations import present, service
from balie.conversations.models import Attachment, Message
from balie.conversations.schemas import (
    ConversationDetail,
    ConversationPage,
    ConversationPatch,
    MessageOut,
    NoteIn,
    ReplyIn,
)
from balie.db import get_scoped
from balie.errors import NotFound
from balie.web.deps import DB, ApiActor, Ctx
from balie.web.downloads import download

router = APIRouter(prefix="/api/v1", tags=["conversations"])


@router.get("/conversations", response_model=ConversationPage)
def list_conversations(
    db: DB,
    actor: ApiActor,
    status: Annotated[
        str | None, Query(description="open (default), pending, snoozed, resolved, closed or all")
    ] = "open",
    assignee: Annotated[str | None, Query(description="me, none or an agent id")] = None,
    channel: str | None = None,
    tag: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="text in subject, messages or customer")] = None,
    customer_id: int | None = None,
    sort: Annotated[str, Query(description="recent (default), waiting (longest waiting first) or sla (soonest "
                                           "SLA due first, breached on top)")] = "recent",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> ConversationPage:
    filters = service.Filters(status=status, assignee=assignee, channel=channel, tag=tag, query=q,
                              customer_id=customer_id, sort=sort, cursor=cursor, limit=limit)
    page = service.list_conversations(db, actor, filters)
    now = clock.now()
    return ConversationPage(
        items=[present.conversation_out(i.conversation, i.customer_name, present.listed_assignee(i), now,
                                        customer_block_state=i.customer_block_state)
               for i in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
def get_conversation(conversation_id: int, db: DB, actor: ApiActor) -> ConversationDetail:
    return present.detail(db, actor, service.get(db, actor, conversation_id))


@router.patch("/conversations/{conversation_id}", response_model=ConversationDetail)
def patch_conversation(
    conversation_id: int, body: ConversationPatch, db: DB, actor: ApiActor
) -> ConversationDetail:
    given = body.model_fields_set
    changes = service.Changes(
        status=body.status,
        assignee_id=body.assignee_id,
        unassign="assignee_id" in given and body.assignee_id is None,
        priority=body.priority,
        tags=body.tags,
        snoozed_until=body.snooze_until,
    )
    conversation = service.update(db, actor, conversation_id, changes)
    db.commit()
    return present.detail(db, actor, conversation)


@router.post("/conversations/{conversation_id}/replies", status_code=202, response_model=MessageOut)
def post_reply(conversation_id: int, body: ReplyIn, db: DB, actor: ApiActor) -> MessageOut:
    """Queued for delivery (202): `delivery_state` goes queued → sent or failed."""
    message = service.reply(db, actor, conversation_id, body.text, status=body.status)
    db.commit()
    agents = present.agents_by_id(db, actor.shop_id)
    return present.message_out(message, "", agents, [])


@router.post("/conversations/{conversation_id}/notes", status_code=201, response_model=MessageOut)
def post_note(conversation_id: int, body: NoteIn, db: DB, actor: ApiActor) -> MessageOut:
    message = service.note(db, actor, conversation_id, body.text)
    db.commit()
    agents = present.agents_by_id(db, actor.shop_id)
    return present.message_out(message, "", agents, [])


@router.get("/messages/{message_id}/raw", response_class=Response)
def get_raw_message(message_id: int, db: DB, actor: ApiActor, context: Ctx) -> Response:
    """The message exactly as it was received (e-mail: the .eml), when the channel keeps one."""
    message = get_scoped(db, Message, actor.shop_id, message_id)
    if not message.raw_path:
        raise NotFound(f"message {message_id} has no raw source")
    return download(context.store, message.raw_path, filename=f"message-{message.id}.eml",
                    content_type="message/rfc822")


@router.get("/attachments/{attachment_id}")
def get_attachment(attachment_id: int, db: DB, actor: ApiActor, context: Ctx) -> Response:
    attachment = get_scoped(db, Attachment, actor.shop_id, attachment_id)
    return download(context.store, attachment.path, filename=attachment.filename,
                    content_type=attachment.content_type)
