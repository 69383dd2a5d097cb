"""/api/v1/returns: open a return case for an order, read it, record the goods' condition, a
deduction, the customer's proof of sending and the refund; /api/v1/returns/settings: the
shop's policy and exceptions (admins change them). docs/api.md#returns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from balie.agents.service import Actor, actor_for_token
from balie.errors import Forbidden, Invalid
from balie.returns import confirmation, service
from balie.returns import settings as return_settings
from balie.returns.models import ReturnCase, ReturnLine
from balie.returns.schemas import (
    ConditionIn,
    DeductionIn,
    ExceptionRule,
    RefundIn,
    RefundOut,
    ReturnIn,
    ReturnLineOut,
    ReturnOut,
    ReturnPage,
    SettingsIn,
    SettingsOut,
    ShipmentProofIn,
)
from balie.web.context import Context
from balie.web.deps import DB, ApiActor, ApiToken, Ctx

router = APIRouter(prefix="/api/v1/returns", tags=["returns"])


def _resellable(policy: str, line: ReturnLine) -> bool | None:
    if policy != "resellable" or line.condition is None:
        return None
    return line.condition in ("unopened", "opened_to_judge") and line.labels_attached is not False


def return_out(session: Session, case: ReturnCase) -> ReturnOut:
    lines = service.lines_of(session, case)
    policy = return_settings.load(session, case.shop_id).policy
    return ReturnOut(
        id=case.id, order_id=case.order_id, order_number=case.order_number, customer_id=case.customer_id,
        source=case.source, reason=case.reason, language=case.language, currency=case.currency,
        withdrawn_at=case.withdrawn_at, delivered_at=case.delivered_at, delivery_unknown=case.delivery_unknown,
        period_ends_on=case.period_ends_on, in_time=case.in_time, send_back_by=case.send_back_by,
        goods_received_at=case.goods_received_at, shipment_proof_at=case.shipment_proof_at,
        conversation_id=case.conversation_id,
        refund=RefundOut(state=service.refund_state(case), due_on=case.refund_due_on, due_at=case.refund_due_at,
                         amount_due=service.refund_due(case, lines), delivery_refund=case.delivery_refund,
                         may_withhold=service.may_withhold(case), refunded_at=case.refunded_at,
                         refunded_amount=case.refunded_amount, reference=case.refund_reference),
        lines=[ReturnLineOut(id=line.id, position=line.position, sku=line.sku, name=line.name,
                             quantity=line.quantity, price=line.price, exception=line.exception,
                             excluded=service.excluded(line), condition=line.condition,
                             labels_attached=line.labels_attached, condition_notes=line.condition_notes,
                             resellable=_resellable(policy, line), deduction=line.deduction,
                             deduction_reason=line.deduction_reason) for line in lines],
        created_at=case.created_at, updated_at=case.updated_at,
    )


def _settings_out(found: return_settings.Settings) -> SettingsOut:
    return SettingsOut(policy=found.policy, standard_delivery_cost=found.standard_delivery_cost,
                       exceptions=[ExceptionRule(kind=rule.kind, sku_prefix=rule.sku_prefix)
                                   for rule in found.exceptions])


@router.get("/settings", response_model=SettingsOut)
def get_settings(db: DB, actor: ApiActor) -> SettingsOut:
    return _settings_out(return_settings.load(db, actor.shop_id))


@router.put("/settings", response_model=SettingsOut)
def put_settings(body: SettingsIn, db: DB, actor: ApiActor) -> SettingsOut:
    if not actor.is_admin:
        raise Forbidden("only an admin changes the return settings")
    found = return_settings.replace(db, actor.shop_id, policy=body.policy,
                                    standard_delivery_cost=body.standard_delivery_cost,
                                    exceptions=[(rule.kind, rule.sku_prefix) for rule in body.exceptions])
    db.commit()
    return _settings_out(found)


@router.post("", status_code=201, response_model=ReturnOut,
             responses={200: {"model": ReturnOut, "description": "the same withdrawal existed: nothing changed"}})
async def post_return(body: ReturnIn, token: ApiToken, context: Ctx) -> JSONResponse:
    out, created = await run_in_threadpool(_open, context, token, body)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


def _open(context: Context, token: str, body: ReturnIn) -> tuple[ReturnOut, bool]:
    if body.source not in ("api", "agent"):
        raise Invalid("source: api or agent", code="invalid_field")
    if body.language not in ("nl", "en"):
        raise Invalid("language: nl or en", code="invalid_field")
    request = service.Request(
        order_number=body.order_number, source=body.source, reason=body.reason or "",
        withdrawn_at=body.withdrawn_at, language=body.language,
        lines=[service.LineRequest(quantity=line.quantity, sku=line.sku, position=line.position,
                                   exception=line.exception) for line in body.lines])
    with context.factory() as db:
        actor = actor_for_token(db, token)

        def work() -> tuple[int, bool]:
            opened = service.open_case(db, actor.shop_id, request, agent_id=actor.agent_id)
            if opened.created and body.send_confirmation and opened.case.customer_id is not None:
                confirmation.send(db, opened.case, opened.case.customer_id)
            return opened.case.id, opened.created

        case_id, created = context.commit_retrying(db, work)
        return return_out(db, service.get(db, actor.shop_id, case_id)), created


@router.get("", response_model=ReturnPage)
def list_returns(db: DB, actor: ApiActor,
                 order_number: Annotated[str, Query(min_length=1, max_length=64)]) -> ReturnPage:
    """An order's return cases, newest first."""
    return ReturnPage(items=[return_out(db, case) for case in service.of_order(db, actor.shop_id, order_number)],
                      next_cursor=None)


@router.get("/{return_id}", response_model=ReturnOut)
def get_return(return_id: int, db: DB, actor: ApiActor) -> ReturnOut:
    return return_out(db, service.get(db, actor.shop_id, return_id))


def _done(db: Session, actor: Actor, return_id: int) -> ReturnOut:
    db.commit()
    return return_out(db, service.get(db, actor.shop_id, return_id))


@router.post("/{return_id}/lines/{line_id}/condition", response_model=ReturnOut)
def post_condition(return_id: int, line_id: int, body: ConditionIn, db: DB, actor: ApiActor) -> ReturnOut:
    service.record_condition(db, actor.shop_id, return_id, line_id, condition=body.condition, notes=body.notes or "",
                             labels_attached=body.labels_attached, agent_id=actor.agent_id)
    return _done(db, actor, return_id)


@router.post("/{return_id}/lines/{line_id}/deduction", response_model=ReturnOut)
def post_deduction(return_id: int, line_id: int, body: DeductionIn, db: DB, actor: ApiActor) -> ReturnOut:
    service.deduct(db, actor.shop_id, return_id, line_id, amount=body.amount, reason=body.reason,
                   agent_id=actor.agent_id)
    return _done(db, actor, return_id)


@router.post("/{return_id}/shipment-proof", response_model=ReturnOut)
def post_shipment_proof(return_id: int, body: ShipmentProofIn, db: DB, actor: ApiActor) -> ReturnOut:
    service.record_shipment_proof(db, actor.shop_id, return_id, at=body.at, agent_id=actor.agent_id)
    return _done(db, actor, return_id)


@router.post("/{return_id}/refund", response_model=ReturnOut,
             responses={200: {"model": ReturnOut, "description": "recorded, or the same refund again"}})
def post_refund(return_id: int, body: RefundIn, db: DB, actor: ApiActor) -> ReturnOut:
    service.record_refund(db, actor.shop_id, return_id, amount=body.amount, reference=body.reference,
                          agent_id=actor.agent_id)
    return _done(db, actor, return_id)
