"""Shipments and their tracking events. A parcel is known by (carrier, tracking code); it may
come before its order and is linked when the order arrives. A parcel whose carrier is not
known yet (`unknown`) is, within its order, the same parcel as one with that tracking code
and a named carrier. Events are kept in full; the parcel's and the order's status follow the
event that happened last, whatever order the events arrive in, and a repeat of an event
changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from balie import clock
from balie.commerce import checks
from balie.commerce.models import SOURCES, TRACKING_STATUSES, Order, Shipment, TrackingEvent
from balie.db import get_scoped, scoped
from balie.errors import Invalid, NotFound
from balie.events import Event, publish_on_commit

# A carrier's clock may run a little ahead; a scan days in the future is a mistake.
FUTURE_SLACK = dt.timedelta(hours=12)
# The carrier of a parcel whose source did not name one (Shopify without tracking_company).
UNKNOWN_CARRIER = "unknown"


@dataclass(frozen=True)
class ShipmentInput:
    order_number: Any
    carrier: Any
    tracking_code: Any
    tracking_url: Any = None
    external_id: Any = None


@dataclass(frozen=True)
class EventInput:
    status: Any
    occurred_at: Any
    description: Any = ""
    raw_status: Any = ""


@dataclass(frozen=True)
class SavedShipment:
    shipment: Shipment
    created: bool


@dataclass(frozen=True)
class SavedEvent:
    event: TrackingEvent
    created: bool  # False: this status at this moment was already known


def save(session: Session, shop_id: int, data: ShipmentInput, *, source: str) -> SavedShipment:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    number = checks.line(data.order_number, "order_number", max_length=64).lstrip("#")
    carrier = checks.line(data.carrier, "carrier", max_length=64)
    code = checks.line(data.tracking_code, "tracking_code", max_length=128)
    if any(character.isspace() for character in code):
        raise Invalid("tracking_code: must not contain spaces", code="invalid_field")
    tracking_url = checks.url(data.tracking_url, "tracking_url")
    external_id = checks.line(data.external_id, "external_id", max_length=64, required=False) or None
    shipment = _find(session, shop_id, carrier, code, number)
    order_id = session.scalar(select(Order.id).where(Order.shop_id == shop_id, Order.number == number))
    now = clock.now()
    created = shipment is None
    left = None if shipment is None else shipment.order_id
    if shipment is None:
        shipment = Shipment(shop_id=shop_id, order_id=order_id, order_number=number, carrier=carrier,
                            tracking_code=code, tracking_url=tracking_url, source=source, external_id=external_id,
                            created_at=now, updated_at=now)
        session.add(shipment)
        session.flush()
    else:
        shipment.order_number, shipment.order_id = number, order_id
        shipment.tracking_url = tracking_url or shipment.tracking_url
        shipment.external_id = external_id or shipment.external_id
        shipment.updated_at = now
    # A parcel moved to another order leaves its first order to be recounted too; the lower
    # id is locked first, as every writer does.
    for touched in sorted(found for found in {left, order_id} if found is not None):
        refresh_order(session, _locked_order(session, touched))
    _announce(session, shipment)
    return SavedShipment(shipment, created)


def _find(session: Session, shop_id: int, carrier: str, code: str, number: str) -> Shipment | None:
    """The parcel, locked on PostgreSQL. Shopify leaves the carrier out until the merchant adds
    it (and may leave it out again later): within the order, the `unknown` parcel with this
    code becomes the named one, scans and all, and an `unknown` report finds the named parcel.
    Only within one order, because codes of different carriers may look alike."""
    locking = session.get_bind().dialect.name == "postgresql"
    exact = scoped(Shipment, shop_id).where(Shipment.carrier == carrier, Shipment.tracking_code == code)
    shipment = session.scalars(exact.with_for_update() if locking else exact).first()
    if shipment is not None:
        return shipment
    if locking:
        # Whether the parcel exists under the other carrier is decided by one transaction at a
        # time: two reports at once (one without the carrier) would each create their own. Held
        # until commit, taken only by a report for a parcel not known under its own carrier.
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"balie.parcel:{shop_id}:{code}"))))
    other = Shipment.carrier != UNKNOWN_CARRIER if carrier == UNKNOWN_CARRIER else Shipment.carrier == UNKNOWN_CARRIER
    query = scoped(Shipment, shop_id).where(  # what committed while waiting for the lock, too
        Shipment.tracking_code == code,
        (Shipment.carrier == carrier) | ((Shipment.order_number == number) & other))
    found = list(session.scalars((query.with_for_update() if locking else query).order_by(Shipment.id)))
    shipment = next((row for row in found if row.carrier == carrier), None) or next(iter(found), None)
    if shipment is not None and carrier != UNKNOWN_CARRIER:
        shipment.carrier = carrier
    return shipment


def add_event(session: Session, shipment: Shipment, data: EventInput, *, source: str) -> SavedEvent:
    if data.status not in TRACKING_STATUSES:
        raise Invalid(f"status: {str(data.status)[:40]!r} is not one of {', '.join(TRACKING_STATUSES)}",
                      code="invalid_status")
    occurred_at = checks.moment(data.occurred_at, "occurred_at")
    assert occurred_at is not None
    if occurred_at > clock.now() + FUTURE_SLACK:
        raise Invalid(f"occurred_at: {occurred_at.isoformat()} is in the future", code="invalid_field")
    description = checks.line(data.description, "description", max_length=1000, required=False)
    raw_status = checks.line(data.raw_status, "raw_status", max_length=64, required=False)
    existing = _event(session, shipment, data.status, occurred_at)
    if existing is not None:
        return SavedEvent(existing, created=False)
    event = TrackingEvent(shop_id=shipment.shop_id, shipment_id=shipment.id, status=data.status,
                          occurred_at=occurred_at, description=description, raw_status=raw_status, source=source,
                          created_at=clock.now())
    try:
        with session.begin_nested():  # the same scan delivered twice at once
            session.add(event)
            session.flush()
    except IntegrityError:
        found = _event(session, shipment, data.status, occurred_at)
        if found is None:
            raise
        return SavedEvent(found, created=False)
    if shipment.status_at is None or occurred_at >= shipment.status_at:
        shipment.status, shipment.status_at = data.status, occurred_at
    if data.status == "delivered" and (shipment.delivered_at is None or occurred_at < shipment.delivered_at):
        shipment.delivered_at = occurred_at
    shipment.updated_at = clock.now()
    if shipment.order_id is not None:
        refresh_order(session, _locked_order(session, shipment.order_id))
    _announce(session, shipment)
    return SavedEvent(event, created=True)


def _event(session: Session, shipment: Shipment, status: str, occurred_at: dt.datetime) -> TrackingEvent | None:
    return session.scalars(select(TrackingEvent).where(
        TrackingEvent.shipment_id == shipment.id, TrackingEvent.status == status,
        TrackingEvent.occurred_at == occurred_at)).first()


def refresh_order(session: Session, order: Order) -> None:
    """The order's delivery status is its newest parcel status; it is delivered (and the
    withdrawal period starts) when its last parcel is. The caller holds the order's lock
    (`_locked_order`, or orders.save's own), so the parcels read here include those another
    transaction moved while this one waited for it (tracking_pg recounts the same way)."""
    session.flush()
    rows = session.execute(select(Shipment.id, Shipment.status, Shipment.status_at, Shipment.delivered_at)
                           .where(Shipment.shop_id == order.shop_id, Shipment.order_id == order.id)).all()
    with_status = [row for row in rows if row.status_at is not None]
    # Two parcels scanned at the same moment: the newer parcel's status (tracking_pg the same).
    newest = max(with_status, key=lambda row: (row.status_at, row.id)) if with_status else None
    order.delivery_status = newest.status if newest else None
    delivered = [row.delivered_at for row in rows]
    order.delivered_at = max(delivered) if rows and all(delivered) else None


def _locked_order(session: Session, order_id: int) -> Order:
    """Read afresh under its row lock on PostgreSQL (SQLite writes one transaction at a time)."""
    locking = session.get_bind().dialect.name == "postgresql"
    return session.get_one(Order, order_id, with_for_update=True if locking else None)


def _announce(session: Session, shipment: Shipment) -> None:
    announce(session, shipment.shop_id, shipment.id, shipment.order_id, shipment.status)


def announce(session: Session, shop_id: int, shipment_id: int, order_id: int | None, status: str | None) -> None:
    """Open screens refresh the parcel when the transaction commits."""
    publish_on_commit(session, Event("shipment.updated", shop_id, {
        "shipment_id": shipment_id, "order_id": order_id, "status": status}))


def get(session: Session, shop_id: int, shipment_id: int) -> Shipment:
    try:
        return get_scoped(session, Shipment, shop_id, shipment_id)
    except NotFound:
        raise NotFound(f"shipment {shipment_id} not found") from None


def by_tracking_code(session: Session, shop_id: int, tracking_code: str, carrier: str | None = None) -> Shipment | None:
    query = scoped(Shipment, shop_id).where(Shipment.tracking_code == tracking_code)
    if carrier:
        query = query.where(Shipment.carrier == carrier)
    return session.scalars(query.order_by(Shipment.id).limit(1)).first()


def of_orders(session: Session, shop_id: int, order_ids: list[int]) -> dict[int, list[Shipment]]:
    found: dict[int, list[Shipment]] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return found
    for shipment in session.scalars(scoped(Shipment, shop_id).where(Shipment.order_id.in_(order_ids))
                                    .order_by(Shipment.id)):
        found[shipment.order_id or 0].append(shipment)
    return found


def events_of(session: Session, shipment: Shipment) -> list[TrackingEvent]:
    """Oldest first, as the parcel travelled."""
    return list(session.scalars(scoped(TrackingEvent, shipment.shop_id)
                                .where(TrackingEvent.shipment_id == shipment.id)
                                .order_by(TrackingEvent.occurred_at, TrackingEvent.id)))
