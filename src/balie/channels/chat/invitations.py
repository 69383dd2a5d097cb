"""The widget socket's frames for proactive invitations (docs/widget.md, "Proactive invitations"):

- `{"type": "page", "kind", "url", "product"?, "cart_value"?, "checkout_step"?}` reports a page;
- `{"type": "idle"}` asks again after a quiet while (the server measures the idle time);
- either may be answered by `{"type": "invite", "id", "action", "text"}`;
- `{"type": "invitation", "id", "accepted": bool}` is the visitor's answer, confirmed by the
  same frame back.

The rules live in `balie.proactive.service`; this module only reads frames, rate-limits them
and owns the transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from balie.channels.chat.models import ChatVisitor
from balie.errors import BalieError, Invalid
from balie.proactive import service as proactive_service

if TYPE_CHECKING:
    from balie.channels.chat.widget import Socket

# Per visitor and per address, per minute: a shopper clicking through pages, not a script.
VISITOR_PAGES_PER_MINUTE = 30
IP_PAGES_PER_MINUTE = 240


def _limit(socket: Socket) -> None:
    limiter = socket.context.limiter
    if (limiter.hit(f"chat:page:{socket.visitor_id}", 60) > VISITOR_PAGES_PER_MINUTE
            or limiter.hit(f"chat:page-ip:{socket.address}", 60) > IP_PAGES_PER_MINUTE):
        raise Invalid("too many page events; wait a minute", code="rate_limited", status=429)


async def page(socket: Socket, frame: dict[str, Any]) -> None:
    report = proactive_service.report(frame.get("kind"), frame.get("url"), frame.get("product"),
                                      frame.get("cart_value"), frame.get("checkout_step"))
    _limit(socket)
    offer = await run_in_threadpool(_page, socket, report)
    if offer is not None:
        await socket.send(_invite(offer))


async def idle(socket: Socket) -> None:
    _limit(socket)
    offer = await run_in_threadpool(_page, socket, None)
    if offer is not None:
        await socket.send(_invite(offer))


def _invite(offer: proactive_service.Offer) -> dict[str, Any]:
    return {"type": "invite", "id": offer.invitation_id, "action": offer.action, "text": offer.text}


def _page(socket: Socket, report: proactive_service.PageReport | None) -> proactive_service.Offer | None:
    context = socket.context
    with context.factory() as db:
        def work() -> proactive_service.Offer | None:
            visitor = _locked(db, socket.visitor_id)
            if report is not None:
                proactive_service.record(db, visitor, report)
            return proactive_service.decide(db, visitor)
        return context.commit_retrying(db, work)


def _locked(db: Session, visitor_id: int) -> ChatVisitor:
    """The visitor, row-locked on PostgreSQL: two sockets of one browser decide one at a time
    (SQLite: `commit_retrying` serialises writers; the unique index backs both)."""
    return db.get_one(ChatVisitor, visitor_id, with_for_update=db.get_bind().dialect.name == "postgresql")


async def answer(socket: Socket, frame: dict[str, Any]) -> None:
    accepted = frame.get("accepted")
    if not isinstance(accepted, bool):
        raise Invalid("an invitation answer needs id and accepted (true or false)", code="invalid_invitation")
    _limit(socket)
    invitation_id = await run_in_threadpool(_answer, socket, frame.get("id"), accepted)
    await socket.send({"type": "invitation", "id": invitation_id, "accepted": accepted})


def _answer(socket: Socket, invitation_id: object, accepted: bool) -> int:
    with socket.context.factory() as db, db.begin():
        visitor = db.get_one(ChatVisitor, socket.visitor_id)
        return proactive_service.answer(db, visitor, invitation_id, accepted=accepted).id


def answered_in_chat(socket: Socket, invitation_id: object) -> None:
    """After the visitor's first message following an accepted chat invitation (the message
    frame carried `invitation`): link them. A wrong id is ignored; the message is stored."""
    with socket.context.factory() as db:
        def work() -> None:
            visitor = db.get_one(ChatVisitor, socket.visitor_id)
            proactive_service.answered_in_chat(db, visitor, invitation_id)
        try:
            socket.context.commit_retrying(db, work)
        except BalieError:
            db.rollback()
