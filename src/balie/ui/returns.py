"""Returns for agents (/returns): the shop's return cases with the refund promise's state, and
one case with its deadlines and the forms to record the goods' condition, a deduction for
diminished value, the customer's proof of sending and the refund. The same service as the
API (`returns.service`) does the work; a refusal comes back on the page, nothing stored."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.orm import Session

from balie import clock
from balie.commerce import orders as order_service
from balie.db import scoped
from balie.errors import BalieError, Invalid
from balie.returns import confirmation, service
from balie.returns import settings as return_settings
from balie.returns.models import ReturnCase
from balie.ui import i18n, pages
from balie.ui.auth import Agent, CheckedAgent, Signed
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute
from balie.web.deps import DB, Ctx

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/returns"
LIST_SIZE = 100

STATE_LABELS = {"on_track": N_("On track"), "due_soon": N_("Due soon"), "breached": N_("Overdue"),
                "met": N_("Refunded")}
CONDITION_LABELS = {"unopened": N_("Unopened"), "opened_to_judge": N_("Opened as needed to judge it"),
                    "handled": N_("Handled beyond that"), "damaged": N_("Damaged")}
EXCEPTION_LABELS = {"custom_made": N_("Custom-made"), "perishable": N_("Perishable"),
                    "sealed_hygiene": N_("Sealed hygiene goods")}
SOURCE_LABELS = {"agent": N_("by an agent"), "api": N_("through the API"),
                 "withdrawal_page": N_("on the withdrawal page")}
NOTICES = {"condition": N_("Condition saved."), "deduction": N_("Deduction saved."),
           "proof": N_("Proof of sending saved."), "refund": N_("Refund recorded: the promise is met.")}


def _case(case: ReturnCase, now: Any) -> dict[str, Any]:
    return {"case": case, "state": service.refund_state(case, now)}


@router.get(PATH)
def returns(request: Request, db: DB, signed: Agent) -> Response:
    """The newest cases; `?order_number=` narrows to one order."""
    shop_id = signed.actor.shop_id
    number = (request.query_params.get("order_number") or "").strip()[:64]
    if number:
        cases = service.of_order(db, shop_id, number, limit=LIST_SIZE)
    else:
        cases = list(db.scalars(scoped(ReturnCase, shop_id).order_by(ReturnCase.id.desc()).limit(LIST_SIZE)))
    now = clock.now()
    return pages.render(request, "returns.html", {
        **chrome(db, signed), "query": ListQuery(), "returns_page": True, "order_number": number,
        "cases": [_case(case, now) for case in cases], "state_labels": STATE_LABELS,
    })


def _page(request: Request, db: Session, signed: Signed, case_id: int, *, error: str = "", notice: str = "",
          status: int = 200) -> Response:
    case = service.get(db, signed.actor.shop_id, case_id)
    lines = service.lines_of(db, case)
    return pages.render(request, "return.html", {
        **chrome(db, signed), "query": ListQuery(), "returns_page": True, "case": case, "lines": lines,
        "state": service.refund_state(case), "amount_due": service.refund_due(case, lines),
        "may_withhold": service.may_withhold(case), "excluded": {line.id for line in lines if service.excluded(line)},
        "policy": return_settings.load(db, case.shop_id).policy,
        "state_labels": STATE_LABELS, "condition_labels": CONDITION_LABELS, "exception_labels": EXCEPTION_LABELS,
        "source_labels": SOURCE_LABELS, "error": error, "notice": notice,
    }, status=status)


def _new_page(request: Request, db: Session, signed: Signed, number: str, *, error: str = "",
              status: int = 200, reason: str = "", withdrawn_at: str = "") -> Response:
    shop_id = signed.actor.shop_id
    order = order_service.by_number(db, shop_id, number) if number else None
    lines: list[dict[str, Any]] = []
    if order is not None:
        taken = service.withdrawn_before(db, order)
        lines = [{"position": line.position, "sku": line.sku, "name": line.name,
                  "left": max(0, line.quantity - taken.get(line.id, 0))} for line in order_service.lines_of(db, order)]
    elif number and not error:
        error = pages.language(request).gettext("No order with this number.")
    return pages.render(request, "return_new.html", {
        **chrome(db, signed), "query": ListQuery(), "returns_page": True, "order_number": number, "order": order,
        "lines": lines, "error": error, "reason": reason,
        "withdrawn_at": withdrawn_at or i18n.local_input(clock.now()),
    }, status=status)


@router.get(PATH + "/new")
def new_return(request: Request, db: DB, signed: Agent) -> Response:
    """An agent records a withdrawal a customer made by mail, phone or at the counter."""
    return _new_page(request, db, signed, (request.query_params.get("order_number") or "").strip()[:64])


@router.post(PATH + "/new")
async def open_return(request: Request, db: DB, signed: CheckedAgent, context: Ctx) -> Response:
    form = await request.form()

    def text(name: str, limit: int) -> str:
        value = form.get(name)
        return value[:limit] if isinstance(value, str) else ""

    number, reason, moment = text("order_number", 64).strip(), text("reason", 4000), text("withdrawn_at", 32)
    chosen: list[service.LineRequest] = []
    for key, value in form.multi_items():
        if key.startswith("qty_") and isinstance(value, str) and len(chosen) <= service.MAX_LINES:
            position, quantity = key[4:], value.strip()
            if not (position.isdigit() and quantity.isdigit() and len(position) <= 4 and len(quantity) <= 7):
                return _new_page(request, db, signed, number, error=f"{key}: expected a whole number", status=400,
                                 reason=reason, withdrawn_at=moment)
            if int(quantity) > 0:
                chosen.append(service.LineRequest(position=int(position), quantity=int(quantity)))
    try:
        if not chosen:
            raise Invalid("choose at least one line", code="invalid_field")
        withdrawn_at = _moment(moment)
        shop_id, agent_id = signed.actor.shop_id, signed.actor.agent_id

        def work() -> int:
            opened = service.open_case(db, shop_id, service.Request(
                order_number=number, source="agent", lines=chosen, reason=reason, withdrawn_at=withdrawn_at,
                language=text("language", 2) or "nl"), agent_id=agent_id)
            if opened.created and form.get("send_confirmation") == "yes" and opened.case.customer_id is not None:
                confirmation.send(db, opened.case, opened.case.customer_id)
            return opened.case.id

        case_id = context.commit_retrying(db, work)
    except BalieError as error:
        db.rollback()
        return _new_page(request, db, signed, number, error=error.detail, status=error.status, reason=reason,
                         withdrawn_at=moment)
    return pages.redirect(f"{PATH}/{case_id}")


def _moment(value: str) -> dt.datetime | None:
    if not value.strip():
        return None
    try:
        parsed = dt.datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M")  # noqa: DTZ007 (shop time, made aware below)
    except ValueError:
        raise Invalid("withdrawn_at: not a date and time", code="invalid_field") from None
    return parsed.replace(tzinfo=i18n.SHOP_ZONE)


@router.get(PATH + "/{case_id}")
def return_case(request: Request, case_id: int, db: DB, signed: Agent) -> Response:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return _page(request, db, signed, case_id, notice=pages.language(request).gettext(notice) if notice else "")


def _act(request: Request, db: Session, signed: Signed, case_id: int, notice: str, work: Any) -> Response:
    try:
        work()
        db.commit()
    except BalieError as error:
        if error.code == "not_found":
            raise
        db.rollback()
        return _page(request, db, signed, case_id, error=error.detail, status=error.status)
    return pages.redirect(f"{PATH}/{case_id}?notice={notice}")


@router.post(PATH + "/{case_id}/lines/{line_id}/condition")
def condition(request: Request, case_id: int, line_id: int, db: DB, signed: CheckedAgent,
              value: Annotated[str, Form(alias="condition", max_length=32)] = "",
              labels: Annotated[str, Form(max_length=8)] = "",
              notes: Annotated[str, Form(max_length=20000)] = "") -> Response:
    attached = {"yes": True, "no": False}.get(labels)
    return _act(request, db, signed, case_id, "condition", lambda: service.record_condition(
        db, signed.actor.shop_id, case_id, line_id, condition=value, notes=notes, labels_attached=attached,
        agent_id=signed.actor.agent_id))


@router.post(PATH + "/{case_id}/lines/{line_id}/deduction")
def deduction(request: Request, case_id: int, line_id: int, db: DB, signed: CheckedAgent,
              amount: Annotated[str, Form(max_length=32)] = "",
              reason: Annotated[str, Form(max_length=20000)] = "") -> Response:
    return _act(request, db, signed, case_id, "deduction", lambda: service.deduct(
        db, signed.actor.shop_id, case_id, line_id, amount=amount.strip().replace(",", "."), reason=reason,
        agent_id=signed.actor.agent_id))


@router.post(PATH + "/{case_id}/shipment-proof")
def shipment_proof(request: Request, case_id: int, db: DB, signed: CheckedAgent) -> Response:
    return _act(request, db, signed, case_id, "proof", lambda: service.record_shipment_proof(
        db, signed.actor.shop_id, case_id, agent_id=signed.actor.agent_id))


@router.post(PATH + "/{case_id}/refund")
def refund(request: Request, case_id: int, db: DB, signed: CheckedAgent,
           amount: Annotated[str, Form(max_length=32)] = "",
           reference: Annotated[str, Form(max_length=400)] = "") -> Response:
    return _act(request, db, signed, case_id, "refund", lambda: service.record_refund(
        db, signed.actor.shop_id, case_id, amount=amount.strip().replace(",", "."), reference=reference,
        agent_id=signed.actor.agent_id))
