"""Returns for agents (/returns): the shop's return cases with the refund promise's state, and
one case with its deadlines and the forms to record the goods' condition, a deduction for
diminished value, the customer's proof of sending and the refund. The same service as the
API (`returns.service`) does the work; a refusal comes back on the page, nothing stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.orm import Session

from balie import clock
from balie.db import scoped
from balie.errors import BalieError
from balie.returns import service
from balie.returns import settings as return_settings
from balie.returns.models import ReturnCase
from balie.ui import pages
from balie.ui.auth import Agent, CheckedAgent, Signed
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute
from balie.web.deps import DB

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
