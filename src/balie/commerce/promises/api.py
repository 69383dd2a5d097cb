"""/api/v1/commerce/promise-settings and /promise-stats (the shop's delivery promises), and
an order's vouchers and broken promises (/api/v1/orders/{id}/vouchers, /promise-breaches)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from balie.agents.service import Actor
from balie.commerce import orders
from balie.commerce.promises import settings as promise_settings
from balie.commerce.promises import stats, texts, vouchers
from balie.commerce.promises.models import Breach
from balie.commerce.promises.schemas import (
    BreachList,
    BreachOut,
    PromiseSettingsIO,
    PromiseSettingsOut,
    PromiseStatsOut,
    RuleIO,
    TemplateIO,
    VoucherList,
    VoucherOut,
    VoucherTotal,
)
from balie.errors import Forbidden
from balie.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1", tags=["commerce"])


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only a shop admin can change the delivery promise settings", code="admin_only")


def settings_out(found: promise_settings.Settings) -> PromiseSettingsOut:
    return PromiseSettingsOut(
        enabled=found.enabled, cutoff=found.cutoff, transit_days=found.transit_days, carriers=found.carriers,
        extra_days=found.extra_days, channel=found.channel,
        templates={code: TemplateIO(subject=template.subject, body=template.body)
                   for code, template in found.templates.items()},
        compensation=[RuleIO(min_days_late=rule.min_days_late, min_order_total=rule.min_order_total,
                             amount=rule.amount) for rule in found.rules],
        saved=found.saved, enabled_at=found.enabled_at, variables=list(texts.VARIABLES))


@router.get("/commerce/promise-settings", response_model=PromiseSettingsOut)
def get_settings(db: DB, actor: ApiActor) -> PromiseSettingsOut:
    _admin(actor)
    return settings_out(promise_settings.load(db, actor.shop_id))


@router.put("/commerce/promise-settings", response_model=PromiseSettingsOut)
def put_settings(body: PromiseSettingsIO, db: DB, actor: ApiActor) -> PromiseSettingsOut:
    """Replaces the settings whole; a language without a template keeps the default text."""
    _admin(actor)
    wanted = promise_settings.Settings(
        enabled=body.enabled, cutoff=body.cutoff, transit_days=body.transit_days, extra_days=body.extra_days,
        channel=body.channel, carriers=body.carriers,
        templates={code: promise_settings.Template(template.subject, template.body)
                   for code, template in body.templates.items()},
        rules=promise_settings.Settings().rules if body.compensation is None else [
            promise_settings.Rule(rule.min_days_late, rule.min_order_total, rule.amount)  # type: ignore[arg-type]
            for rule in body.compensation])
    promise_settings.save(db, actor.shop_id, wanted, actor_agent_id=actor.agent_id)
    db.commit()
    return settings_out(promise_settings.load(db, actor.shop_id))


@router.get("/commerce/promise-stats", response_model=PromiseStatsOut)
def get_stats(db: DB, actor: ApiActor, days: Annotated[int, Query(ge=1, le=366)] = 30) -> PromiseStatsOut:
    found = stats.of_shop(db, actor.shop_id, days=days)
    return PromiseStatsOut(
        since=found.since, broken=found.broken, told_first=found.told_first, told_first_share=found.told_first_share,
        customer_asked_first=found.customer_asked_first, unreachable=found.unreachable, escalated=found.escalated,
        median_seconds_to_notice=found.median_seconds_to_notice, vouchers=found.vouchers,
        voucher_amounts=[VoucherTotal(currency=currency, amount=amount)
                         for currency, amount in sorted(found.voucher_amounts.items())])


@router.get("/orders/{order_id}/vouchers", response_model=VoucherList)
def get_vouchers(order_id: int, db: DB, actor: ApiActor) -> VoucherList:
    order = orders.get(db, actor.shop_id, order_id)
    return VoucherList(items=[
        VoucherOut(id=voucher.id, code=voucher.code, amount=voucher.amount, currency=voucher.currency,
                   order_id=voucher.order_id, customer_id=voucher.customer_id, reason=voucher.reason,
                   created_at=voucher.created_at)
        for voucher in vouchers.of_order(db, actor.shop_id, order.id)])


@router.get("/orders/{order_id}/promise-breaches", response_model=BreachList)
def get_breaches(order_id: int, db: DB, actor: ApiActor) -> BreachList:
    order = orders.get(db, actor.shop_id, order_id)
    rows = db.scalars(select(Breach).where(Breach.shop_id == actor.shop_id, Breach.order_id == order.id)
                      .order_by(Breach.generation))
    return BreachList(items=[
        BreachOut(id=row.id, generation=row.generation, rule=row.rule, promised_date=row.promised_date,
                  new_expected_date=row.new_expected_date, broken_at=row.broken_at, detected_at=row.detected_at,
                  state=row.state, acted_at=row.acted_at, channel=row.channel, conversation_id=row.conversation_id,
                  customer_asked_first=row.customer_asked_first, note=row.note) for row in rows])
