"""/api/v1/orders and /api/v1/shipments: the shop's own systems tell Balie about orders,
parcels and scans. The same order number, parcel or scan again is an update or nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import and_, or_
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from balie import cursors
from balie.agents.service import actor_for_token
from balie.commerce import orders, shipments
from balie.commerce.models import Order, Shipment
from balie.commerce.promises import latest
from balie.commerce.schemas import (
    LatestPromiseOut,
    LineOut,
    OrderIn,
    OrderOut,
    OrderPage,
    PromiseOut,
    ShipmentIn,
    ShipmentOut,
    TrackingEventIn,
    TrackingEventOut,
)
from balie.db import scoped
from balie.web.context import Context
from balie.web.deps import DB, ApiActor, ApiToken, Ctx

router = APIRouter(prefix="/api/v1", tags=["commerce"])


def shipment_out(session: Session, shipment: Shipment) -> ShipmentOut:
    return ShipmentOut(
        id=shipment.id, order_id=shipment.order_id, order_number=shipment.order_number, carrier=shipment.carrier,
        tracking_code=shipment.tracking_code, tracking_url=shipment.tracking_url, status=shipment.status,
        status_at=shipment.status_at, delivered_at=shipment.delivered_at,
        events=[TrackingEventOut(id=event.id, status=event.status, occurred_at=event.occurred_at,
                                 description=event.description, raw_status=event.raw_status, source=event.source)
                for event in shipments.events_of(session, shipment)],
    )


def order_out(session: Session, order: Order, parcels: list[Shipment] | None = None,
              promise: latest.Promise | None = None) -> OrderOut:
    if parcels is None:
        parcels = shipments.of_orders(session, order.shop_id, [order.id])[order.id]
    if promise is None:
        promise = latest.promised(session, order.shop_id, [order])[order.id]
    window = promise.window or (None, None)
    return OrderOut(
        id=order.id, number=order.number, source=order.source, external_id=order.external_id,
        customer_id=order.customer_id, status=order.status, payment_status=order.payment_status,
        total=order.total, currency=order.currency, placed_at=order.placed_at,
        promise=PromiseOut(date=order.promised_delivery_date, window_start=order.promised_window_start,
                           window_end=order.promised_window_end),
        latest_promise=LatestPromiseOut(date=promise.date, window_start=window[0], window_end=window[1],
                                        revised=promise.revised),
        delivery_status=order.delivery_status, delivered_at=order.delivered_at,
        lines=[LineOut(sku=line.sku, name=line.name, quantity=line.quantity, price=line.price,
                       cost_price=line.cost_price) for line in orders.lines_of(session, order)],
        shipments=[shipment_out(session, shipment) for shipment in parcels],
        created_at=order.created_at, updated_at=order.updated_at,
    )


def order_input(body: OrderIn) -> orders.OrderInput:
    window = body.promised_delivery_window
    return orders.OrderInput(
        number=body.number, total=body.total, currency=body.currency, placed_at=body.placed_at,
        customer=orders.CustomerInput(email=body.customer.email, phone=body.customer.phone, name=body.customer.name,
                                      external_id=body.customer.external_id),
        lines=[orders.LineInput(sku=line.sku or "", name=line.name, quantity=line.quantity, price=line.price,
                                cost_price=line.cost_price) for line in body.lines],
        status=body.status, payment_status=body.payment_status or "",
        promised_delivery_date=body.promised_delivery_date,
        promised_window=(window.start, window.end) if window else None,
        external_id=body.external_id, updated_at=body.updated_at,
    )


@router.post("/orders", status_code=201, response_model=OrderOut,
             responses={200: {"model": OrderOut, "description": "an order with this number existed: updated"}})
async def post_order(body: OrderIn, token: ApiToken, context: Ctx) -> JSONResponse:
    out, created = await run_in_threadpool(_save_order, context, token, body)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


def _save_order(context: Context, token: str, body: OrderIn) -> tuple[OrderOut, bool]:
    data = order_input(body)
    with context.factory() as db:
        actor = actor_for_token(db, token)
        saved = context.commit_retrying(db, lambda: orders.save(db, actor.shop_id, data, source="api"))
        # A new order has no broken promise yet: its checkout promise is its latest.
        promise = latest.Promise.at_checkout(saved.order) if saved.created else None
        return order_out(db, saved.order, promise=promise), saved.created


@router.get("/orders", response_model=OrderPage)
def list_orders(
    db: DB, actor: ApiActor,
    customer_id: int | None = None,
    number: Annotated[str | None, Query(max_length=64)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> OrderPage:
    """Newest first; filter on a customer or an order number."""
    query = scoped(Order, actor.shop_id)
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    if number is not None:
        query = query.where(Order.number == number.strip().lstrip("#"))
    if cursor:
        placed, last_id = cursors.decode(cursor)
        query = query.where(or_(Order.placed_at < placed, and_(Order.placed_at == placed, Order.id < last_id)))
    rows = list(db.scalars(query.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    parcels = shipments.of_orders(db, actor.shop_id, [order.id for order in page])
    promises = latest.promised(db, actor.shop_id, page)
    return OrderPage(items=[order_out(db, order, parcels[order.id], promises[order.id]) for order in page],
                     next_cursor=cursors.encode(page[-1].placed_at, page[-1].id) if len(rows) > limit else None)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: int, db: DB, actor: ApiActor) -> OrderOut:
    return order_out(db, orders.get(db, actor.shop_id, order_id))


@router.post("/shipments", status_code=201, response_model=ShipmentOut,
             responses={200: {"model": ShipmentOut, "description": "this carrier's tracking code existed: updated"}})
async def post_shipment(body: ShipmentIn, token: ApiToken, context: Ctx) -> JSONResponse:
    out, created = await run_in_threadpool(_save_shipment, context, token, body)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


def _save_shipment(context: Context, token: str, body: ShipmentIn) -> tuple[ShipmentOut, bool]:
    data = shipments.ShipmentInput(order_number=body.order_number, carrier=body.carrier,
                                   tracking_code=body.tracking_code, tracking_url=body.tracking_url)
    with context.factory() as db:
        actor = actor_for_token(db, token)
        saved = context.commit_retrying(db, lambda: shipments.save(db, actor.shop_id, data, source="api"))
        return shipment_out(db, saved.shipment), saved.created


@router.get("/shipments/{shipment_id}", response_model=ShipmentOut)
def get_shipment(shipment_id: int, db: DB, actor: ApiActor) -> ShipmentOut:
    return shipment_out(db, shipments.get(db, actor.shop_id, shipment_id))


@router.post("/shipments/{shipment_id}/events", status_code=201, response_model=ShipmentOut,
             responses={200: {"model": ShipmentOut, "description": "this scan was already known: nothing changed"}})
async def post_tracking_event(shipment_id: int, body: TrackingEventIn, token: ApiToken, context: Ctx) -> JSONResponse:
    out, created = await run_in_threadpool(_add_event, context, token, shipment_id, body)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


def _add_event(context: Context, token: str, shipment_id: int, body: TrackingEventIn) -> tuple[ShipmentOut, bool]:
    data = shipments.EventInput(status=body.status, occurred_at=body.occurred_at, description=body.description or "")
    with context.factory() as db:
        actor = actor_for_token(db, token)

        def work() -> bool:
            return shipments.add_event(db, shipments.get(db, actor.shop_id, shipment_id), data, source="api").created

        created = context.commit_retrying(db, work)
        return shipment_out(db, shipments.get(db, actor.shop_id, shipment_id)), created
