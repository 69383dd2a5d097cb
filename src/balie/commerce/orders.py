"""Orders from any source, saved by the shop's order number: the same number again updates
the order, an update older than the one we hold changes nothing, and shipments that came
before their order are linked when it arrives. Services flush; the caller commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from balie import clock
from balie.commerce import checks, shipments
from balie.commerce.models import ORDER_STATUSES, SOURCES, Order, OrderLine, Shipment
from balie.customers import service as customer_service
from balie.customers.service import IdentityRef
from balie.db import get_scoped, scoped
from balie.errors import Invalid, NotFound
from balie.events import Event, publish_on_commit

MAX_LINES = 500


@dataclass(frozen=True)
class CustomerInput:
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    external_id: str | None = None  # the shop's own customer id


@dataclass(frozen=True)
class LineInput:
    name: Any
    quantity: Any
    price: Any
    sku: Any = ""
    cost_price: Any = None


@dataclass(frozen=True)
class OrderInput:
    """As the API, a webhook or a CSV row gives it; `save` checks every field."""

    number: Any
    total: Any
    currency: Any
    placed_at: Any
    customer: CustomerInput = field(default_factory=CustomerInput)
    lines: list[LineInput] = field(default_factory=list)
    status: Any = "open"
    payment_status: Any = ""
    promised_delivery_date: dt.date | None = None
    promised_window: tuple[dt.datetime, dt.datetime] | None = None
    external_id: Any = None
    updated_at: dt.datetime | None = None  # the platform's own; None: always newer


@dataclass(frozen=True)
class Saved:
    order: Order
    created: bool
    changed: bool  # False: a repeat, or older than what we hold


def identity_refs(customer: CustomerInput) -> list[IdentityRef]:
    """The identities an order carries; a malformed one names its field."""
    refs = []
    for kind, value, name in (("email", customer.email, "customer.email"), ("phone", customer.phone, "customer.phone"),
                              ("external", customer.external_id, "customer.external_id")):
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            raise Invalid(f"{name}: expected text", code="invalid_field")
        try:
            refs.append(customer_service.normalise(kind, value))
        except Invalid as error:
            raise Invalid(f"{name}: {error.detail}", code="invalid_field") from None
    return refs


def _values(data: OrderInput) -> dict[str, Any]:
    if data.status not in ORDER_STATUSES:
        raise Invalid(f"status: one of {', '.join(ORDER_STATUSES)}", code="invalid_field")
    window = data.promised_window
    start = end = None
    if window is not None:
        start, end = checks.moment(window[0], "promised_delivery_window.start"), checks.moment(
            window[1], "promised_delivery_window.end")
        if start is None or end is None or end <= start:
            raise Invalid("promised_delivery_window: end must be after start", code="invalid_field")
    if data.promised_delivery_date is not None and not isinstance(data.promised_delivery_date, dt.date):
        raise Invalid("promised_delivery_date: expected a date (YYYY-MM-DD)", code="invalid_field")
    return {
        "number": checks.line(data.number, "number", max_length=64).lstrip("#"),
        "total": checks.money(data.total, "total"),
        "currency": checks.currency(data.currency),
        "placed_at": checks.moment(data.placed_at, "placed_at"),
        "status": data.status,
        "payment_status": checks.line(data.payment_status, "payment_status", max_length=32, required=False),
        "promised_delivery_date": data.promised_delivery_date,
        "promised_window_start": start,
        "promised_window_end": end,
        "external_id": checks.line(data.external_id, "external_id", max_length=64, required=False) or None,
        "source_updated_at": checks.moment(data.updated_at, "updated_at", required=False),
    }


def _lines(lines: list[LineInput]) -> list[dict[str, Any]]:
    if len(lines) > MAX_LINES:
        raise Invalid(f"lines: at most {MAX_LINES}", code="invalid_field")
    checked = []
    for index, item in enumerate(lines):
        where = f"lines[{index}]"
        checked.append({
            "position": index,
            "sku": checks.line(item.sku, f"{where}.sku", max_length=64, required=False),
            "name": checks.line(item.name, f"{where}.name", max_length=300),
            "quantity": checks.quantity(item.quantity, f"{where}.quantity"),
            "price": checks.money(item.price, f"{where}.price"),
            "cost_price": checks.money(item.cost_price, f"{where}.cost_price", required=False),
        })
    return checked


def check(data: OrderInput) -> None:
    """Everything `save` would refuse, without writing (the CSV import's dry run)."""
    _values(data)
    _lines(data.lines)
    identity_refs(data.customer)
    checks.line(data.customer.name, "customer.name", max_length=200, required=False)


def save(session: Session, shop_id: int, data: OrderInput, *, source: str) -> Saved:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    values = _values(data)
    lines = _lines(data.lines)
    refs = identity_refs(data.customer)
    name = checks.line(data.customer.name, "customer.name", max_length=200, required=False)
    query = scoped(Order, shop_id).where(Order.number == values["number"])
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    order = session.scalars(query).first()
    stale = (order is not None and values["source_updated_at"] is not None and order.source_updated_at is not None
             and values["source_updated_at"] <= order.source_updated_at)
    if stale:
        assert order is not None
        return Saved(order, created=False, changed=False)
    customer_id = (customer_service.resolve(session, shop_id=shop_id, refs=refs, name=name).id if refs
                   else order.customer_id if order is not None else None)
    now = clock.now()
    created = order is None
    if order is None:
        order = Order(shop_id=shop_id, source=source, created_at=now, updated_at=now, customer_id=customer_id,
                      **values)
        session.add(order)
        session.flush()
        changed = True
    else:
        changed = _differs(session, order, values, lines, customer_id)
        if changed:
            for key, value in values.items():
                setattr(order, key, value)
            order.customer_id, order.updated_at = customer_id, now
            session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
        elif values["source_updated_at"] is not None:
            order.source_updated_at = values["source_updated_at"]
    if changed:
        session.add_all(OrderLine(shop_id=shop_id, order_id=order.id, **item) for item in lines)
        if created:
            _adopt_shipments(session, order)
        session.flush()
        publish_on_commit(session, Event("order.created" if created else "order.updated", shop_id,
                                         {"order_id": order.id, "number": order.number,
                                          "customer_id": order.customer_id}))
    return Saved(order, created=created, changed=changed)


def _differs(session: Session, order: Order, values: dict[str, Any], lines: list[dict[str, Any]],
             customer_id: int | None) -> bool:
    if customer_id != order.customer_id:
        return True
    if any(getattr(order, key) != value for key, value in values.items() if key != "source_updated_at"):
        return True
    stored = [{"position": line.position, "sku": line.sku, "name": line.name, "quantity": line.quantity,
               "price": line.price, "cost_price": line.cost_price} for line in lines_of(session, order)]
    return stored != lines


def _adopt_shipments(session: Session, order: Order) -> None:
    """Parcels announced before their order (events for an unknown order are kept)."""
    session.execute(update(Shipment).where(Shipment.shop_id == order.shop_id, Shipment.order_id.is_(None),
                                           Shipment.order_number == order.number).values(order_id=order.id))
    shipments.refresh_order(session, order)


def lines_of(session: Session, order: Order) -> list[OrderLine]:
    return list(session.scalars(scoped(OrderLine, order.shop_id).where(OrderLine.order_id == order.id)
                                .order_by(OrderLine.position)))


def get(session: Session, shop_id: int, order_id: int) -> Order:
    try:
        return get_scoped(session, Order, shop_id, order_id)
    except NotFound:
        raise NotFound(f"order {order_id} not found") from None


def by_number(session: Session, shop_id: int, number: str) -> Order | None:
    return session.scalars(scoped(Order, shop_id).where(Order.number == number.strip().lstrip("#"))).first()


def of_customer(session: Session, shop_id: int, customer_id: int, *, limit: int = 20) -> list[Order]:
    """The customer's orders, newest first."""
    return list(session.scalars(scoped(Order, shop_id).where(Order.customer_id == customer_id)
                                .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)))
