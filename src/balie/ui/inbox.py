"""The inbox pages: the list alone, the list beside an open conversation, and the partials
the page's script fetches when a live event says something changed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from balie.agents import service as agent_service
from balie.channels.chat import service as chat_service
from balie.inputs import parse_id
from balie.ui import pages
from balie.ui.auth import Agent, Signed
from balie.ui.listing import ListQuery, list_context
from balie.ui.routing import UiRoute
from balie.ui.thread import canned_replies, conversation_context
from balie.web.deps import DB

router = APIRouter(route_class=UiRoute, include_in_schema=False)
NOTICES = ("sent", "noted", "saved", "merged", "scheduled", "cancelled", "blocked", "muted", "unblocked", "tagged",
           "untagged")


def chrome(db: Session, signed: Signed) -> dict[str, Any]:
    """What the frame around every signed-in page shows: who, which shop, the CSRF token."""
    shops = agent_service.shops_of(db, signed.actor.agent_id)
    current = next((shop.name for shop in shops if shop.id == signed.actor.shop_id), "")
    return {
        "actor": signed.actor,
        "shops": shops,
        "shop_name": current,
        "csrf_token": signed.csrf_token,
    }


@router.get("/inbox")
def inbox(request: Request, db: DB, signed: Agent) -> Response:
    query = ListQuery.from_params(request.query_params)
    context = {**chrome(db, signed), **list_context(db, signed.actor, query, pages.language(request)), "open_id": None}
    return pages.render(request, "inbox.html", context)


def conversation_page(request: Request, db: Session, signed: Signed, conversation_id: int, *,
                      draft: str = "", mode: str = "reply", error: str = "", status: int = 200) -> Response:
    query = ListQuery.from_params(request.query_params)
    detail = conversation_context(db, signed.actor, conversation_id, query.query_string())
    _seen_by_agent(db, signed, detail)
    canned = canned_replies(db, signed.actor, detail["conversation"], detail["customer"]["name"],
                            detail["order_variables"])
    if not draft:
        draft = _canned_draft(request, canned)
    notice = request.query_params.get("notice")
    context = {
        **chrome(db, signed),
        **list_context(db, signed.actor, query, pages.language(request)),
        **detail,
        "open_id": conversation_id,
        "canned": canned,
        "draft": draft,
        "mode": mode if mode in ("reply", "note") else "reply",
        "error": error,
        "notice": notice if notice in NOTICES else None,
    }
    return pages.render(request, "inbox.html", context, status=status)


def _canned_draft(request: Request, canned: list[dict[str, Any]]) -> str:
    """Without JavaScript, "Insert" reloads the page with ?canned=<id>: start the draft with it."""
    wanted = request.query_params.get("canned", "")
    for reply in canned:
        if str(reply["id"]) == wanted:
            return str(reply["body"])
    return ""


@router.get("/inbox/c/{conversation_id}")
def conversation(request: Request, conversation_id: int, db: DB, signed: Agent) -> Response:
    return conversation_page(request, db, signed, conversation_id)


def _seen_by_agent(db: Session, signed: Signed, detail: dict[str, Any]) -> None:
    """A chat visitor's widget shows "seen" once an agent has the conversation in front of them."""
    conversation = detail["conversation"]
    if conversation["channel"] != "chat":
        return
    if chat_service.agent_opened(db, shop_id=signed.actor.shop_id, conversation_id=conversation["id"]):
        db.commit()


@router.get("/ui/partials/list")
def list_partial(request: Request, db: DB, signed: Agent) -> Response:
    query = ListQuery.from_params(request.query_params)
    context = {**list_context(db, signed.actor, query, pages.language(request)), "open_id": _open_id(request)}
    return pages.render(request, "_list.html", context)


@router.get("/ui/partials/conversation/{conversation_id}")
def conversation_partial(request: Request, conversation_id: int, db: DB, signed: Agent) -> Response:
    """The parts of a conversation that change under the agent's eyes; never the composer,
    so a live update does not disturb what they are typing."""
    query = ListQuery.from_params(request.query_params)
    context = {**chrome(db, signed), **conversation_context(db, signed.actor, conversation_id,
                                                            query.query_string())}
    page = pages.render(request, "_live.html", context)
    _seen_by_agent(db, signed, context)  # the agent has it open while the visitor writes
    return page


def _open_id(request: Request) -> int | None:
    return parse_id(request.query_params.get("open", ""))

