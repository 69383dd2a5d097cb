"""What agents change from a conversation: reply or note, status, assignee, priority,
tags, snooze, follow-ups, the customer's tags, merging the customer with another, and
(admins) blocking them.

Each action works as a plain form post (answered with a redirect back, or with the page
and the agent's draft when it failed) and as the page script's fetch call (answered with
JSON, so the script can refresh the parts that changed and keep the composer as it is).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from balie.channels.chat import service as chat_service
from balie.conversations import service as conversation_service
from balie.conversations.service import Changes
from balie.customers import blocking
from balie.customers import service as customer_service
from balie.customers import tags as customer_tags
from balie.errors import BalieError, Forbidden, Invalid, NotFound
from balie.follow_ups import service as follow_up_service
from balie.inputs import parse_id
from balie.ui import pages
from balie.ui.auth import CheckedAgent, Signed
from balie.ui.i18n import SHOP_ZONE
from balie.ui.inbox import conversation_page
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute, explain, is_async
from balie.web.deps import DB

router = APIRouter(route_class=UiRoute, include_in_schema=False)
MAX_TEXT = 1024 * 1024


def _done(request: Request, conversation_id: int, notice: str, **data: object) -> Response:
    if is_async(request):
        return JSONResponse({"ok": True, "notice": notice, **data})
    query = ListQuery.from_params(request.query_params).params()
    query["notice"] = notice
    return pages.redirect(f"/inbox/c/{conversation_id}?{urlencode(query)}")


def _failed(request: Request, db: Session, signed: Signed, conversation_id: int, error: BalieError, *,
            draft: str = "", mode: str = "reply", message: str = "") -> Response:
    """The error in the agent's words: `message` (a control's own), or the general explanation."""
    db.rollback()
    if error.status == 404:
        raise error  # the route answers it with the not-found page (or JSON for the script)
    message = message or explain(pages.language(request), error.code, error.detail)
    if is_async(request):
        return JSONResponse({"error": error.code, "detail": message}, status_code=error.status)
    return conversation_page(request, db, signed, conversation_id, draft=draft, mode=mode,
                             error=message, status=error.status)


@router.post("/inbox/c/{conversation_id}/messages")
def send(
    request: Request,
    conversation_id: int,
    db: DB,
    signed: CheckedAgent,
    body: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    mode: Annotated[str, Form()] = "reply",
    after: Annotated[str, Form()] = "pending",
) -> Response:
    """Reply (pending by default: the ball is in the customer's court) or note; either may resolve."""
    actor = signed.actor
    resolve = after == "resolved"
    try:
        if mode == "note":
            message = conversation_service.note(db, actor, conversation_id, body)
            if resolve:
                conversation_service.update(db, actor, conversation_id, Changes(status="resolved"))
        else:
            message = conversation_service.reply(db, actor, conversation_id, body,
                                                 status="resolved" if resolve else "pending")
    except BalieError as error:
        return _failed(request, db, signed, conversation_id, error, draft=body, mode=mode)
    db.commit()
    return _done(request, conversation_id, "noted" if mode == "note" else "sent", message_id=message.id)


def parse_local(value: str, *, what: str = "snooze until", code: str = "invalid_snooze") -> dt.datetime:
    """A datetime-local value is wall-clock time without a zone: the shop's time."""
    try:
        local = dt.datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - zone added below
    except ValueError:
        raise Invalid(f"{what} needs a date and a time", code=code) from None
    return local.replace(tzinfo=SHOP_ZONE).astimezone(dt.UTC)


def parse_snooze(value: str) -> dt.datetime:
    return parse_local(value)


def changes_from_form(signed: Signed, *, status: str | None, assignee: str | None, priority: str | None,
                      tags: str | None, snooze_until: str | None) -> Changes:
    """Only the fields the form sent: each control posts on its own, so an agent saving tags
    never reverts the status a colleague just changed."""
    changes = Changes(priority=priority or None)
    if snooze_until:
        changes.snoozed_until = parse_snooze(snooze_until)
    elif status and status != "snoozed":
        changes.status = status
    if assignee is not None:
        if assignee in ("", "none"):
            changes.unassign = True
        elif assignee == "me":
            changes.assignee_id = signed.actor.agent_id
        elif (agent_id := parse_id(assignee)) is not None:
            changes.assignee_id = agent_id
        else:
            raise Invalid("assignee must be me, none or an agent id", code="invalid_form")
    if tags is not None:
        changes.tags = [tag for tag in tags.split(",") if tag.strip()]
    return changes


@router.post("/inbox/c/{conversation_id}/typing")
def typing(conversation_id: int, db: DB, signed: CheckedAgent) -> Response:
    """The composer says the agent is typing a reply; a chat visitor sees it (at most every
    few seconds, the page script throttles)."""
    chat_service.agent_typing(db, shop_id=signed.actor.shop_id, conversation_id=conversation_id,
                              agent_name=signed.actor.name)
    db.commit()
    return Response(status_code=204)


@router.post("/inbox/c/{conversation_id}/update")
def update(
    request: Request,
    conversation_id: int,
    db: DB,
    signed: CheckedAgent,
    status: Annotated[str | None, Form(max_length=16)] = None,
    assignee: Annotated[str | None, Form(max_length=20)] = None,
    priority: Annotated[str | None, Form(max_length=16)] = None,
    tags: Annotated[str | None, Form(max_length=2000)] = None,
    snooze_until: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    try:
        changes = changes_from_form(signed, status=status, assignee=assignee, priority=priority, tags=tags,
                                    snooze_until=snooze_until)
        conversation_service.update(db, signed.actor, conversation_id, changes)
    except BalieError as error:
        return _failed(request, db, signed, conversation_id, error)
    db.commit()
    return _done(request, conversation_id, "saved")


@router.post("/inbox/c/{conversation_id}/merge")
def merge(
    request: Request,
    conversation_id: int,
    db: DB,
    signed: CheckedAgent,
    other_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Merge customer #other_id into this conversation's customer (audited by the service)."""
    actor = signed.actor
    lang = pages.language(request)
    conversation = conversation_service.get(db, actor, conversation_id)  # another shop's: 404
    survivor = customer_service.get(db, shop_id=actor.shop_id, customer_id=conversation.customer_id)
    wanted = parse_id(other_id)
    try:
        if wanted is None:
            raise Invalid(lang.gettext("Enter the number of the other customer, for example 42."))
        try:
            other = customer_service.get(db, shop_id=actor.shop_id, customer_id=wanted)
        except NotFound:
            raise Invalid(lang.gettext("There is no customer with that number in this shop.")) from None
        if other.id == survivor.id:
            raise Invalid(lang.gettext("That is this customer already."))
        customer_service.merge(db, shop_id=actor.shop_id, survivor=survivor, other=other,
                               actor_agent_id=actor.agent_id)
    except BalieError as error:
        return _failed(request, db, signed, conversation_id, error)
    db.commit()
    return _done(request, conversation_id, "merged")


CUSTOMER_TAG_MESSAGES = {
    "invalid_tag": N_("A customer tag is one line of 1 to 64 characters."),
    "invalid_text": N_("A customer tag is one line of 1 to 64 characters."),
    "too_many_tags": N_("A customer has at most 20 tags. Remove one first."),
}


@router.post("/inbox/c/{conversation_id}/customer-tags")
def add_customer_tag(
    request: Request,
    conversation_id: int,
    db: DB,
    signed: CheckedAgent,
    tag: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Tags this conversation's customer (audited by the service); a tag they have is no error."""
    return _change_customer_tag(customer_tags.add, request, conversation_id, db, signed, tag, "tagged")


@router.post("/inbox/c/{conversation_id}/customer-tags/remove")
def remove_customer_tag(
    request: Request,
    conversation_id: int,
    db: DB,
    signed: CheckedAgent,
    tag: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A form can only post: the customer tag's delete. One that is gone already is no error."""
    return _change_customer_tag(customer_tags.remove, request, conversation_id, db, signed, tag, "untagged")


def _change_customer_tag(change: Callable[..., object], request: Request, conversation_id: int, db: DB,
                         signed: CheckedAgent, tag: str, notice: str) -> Response:
    actor = signed.actor
    conversation = conversation_service.get(db, actor, conversation_id)  # another shop's: 404
    try:
        change(db, shop_id=actor.shop_id, customer_id=conversation.customer_id, tag=tag, actor_agent_id=actor.agent_id)
    except BalieError as error:
        return _failed_with(CUSTOMER_TAG_MESSAGES, request, db, signed, conversation_id, error)
    db.commit()
    return _done(request, conversation_id, notice)


@router.post("/inbox/c/{conversation_id}/follow-ups")
def schedule_follow_up(
    request: Request,
    conversation_id: int,
    db: DB,
    signed: CheckedAgent,
    due_at: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=MAX_TEXT)] = "",
) -> Response:
    """At that moment the conversation comes back to this agent, with the note."""
    try:
        when = parse_local(due_at, what="a follow-up", code="invalid_follow_up")
        follow_up_service.schedule(db, signed.actor, conversation_id, due_at=when, note=note)
    except BalieError as error:
        return _failed(request, db, signed, conversation_id, error)
    db.commit()
    return _done(request, conversation_id, "scheduled")


@router.post("/inbox/c/{conversation_id}/follow-ups/{follow_up_id}/cancel")
def cancel_follow_up(request: Request, conversation_id: int, follow_up_id: int, db: DB,
                     signed: CheckedAgent) -> Response:
    try:
        follow_up_service.cancel(db, signed.actor, conversation_id, follow_up_id)
    except BalieError as error:
        return _failed(request, db, signed, conversation_id, error)
    db.commit()
    return _done(request, conversation_id, "cancelled")


BLOCK_MESSAGES = {
    "invalid_mode": N_("Choose mute or block."),
    "invalid_reason": N_("The reason is one line of at most 500 characters."),
    "invalid_text": N_("The reason is one line of at most 500 characters."),
    "not_blocked": N_("This customer is not blocked or muted (any more)."),
}


def _failed_with(messages: dict[str, str], request: Request, db: Session, signed: Signed, conversation_id: int,
                 error: BalieError) -> Response:
    """As _failed, with this control's own words for the errors it can run into."""
    message = messages.get(error.code)
    return _failed(request, db, signed, conversation_id, error,
                   message=pages.language(request).gettext(message) if message else "")


def _block_failed(request: Request, db: Session, signed: Signed, conversation_id: int,
                  error: BalieError) -> Response:
    return _failed_with(BLOCK_MESSAGES, request, db, signed, conversation_id, error)


@router.post("/inbox/c/{conversation_id}/block")
def block_customer(
    request: Request,
    conversation_id: int,
    db: DB,
    signed: CheckedAgent,
    mode: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Blocks or mutes this conversation's customer (admins; audited by the service)."""
    actor = signed.actor
    conversation = conversation_service.get(db, actor, conversation_id)  # another shop's: 404
    try:
        if not actor.is_admin:
            raise Forbidden("only a shop admin can block or mute a customer", code="admin_only")
        blocking.block(db, shop_id=actor.shop_id, customer_id=conversation.customer_id, mode=mode,
                       actor_agent_id=actor.agent_id, reason=reason)
    except BalieError as error:
        return _block_failed(request, db, signed, conversation_id, error)
    db.commit()
    return _done(request, conversation_id, "blocked" if mode == "blocked" else "muted")


@router.post("/inbox/c/{conversation_id}/unblock")
def unblock_customer(request: Request, conversation_id: int, db: DB, signed: CheckedAgent) -> Response:
    actor = signed.actor
    conversation = conversation_service.get(db, actor, conversation_id)
    try:
        if not actor.is_admin:
            raise Forbidden("only a shop admin can block or mute a customer", code="admin_only")
        blocking.unblock(db, shop_id=actor.shop_id, customer_id=conversation.customer_id,
                         actor_agent_id=actor.agent_id)
    except BalieError as error:
        return _block_failed(request, db, signed, conversation_id, error)
    db.commit()
    return _done(request, conversation_id, "unblocked")
