"""The generic tracking webhook: any carrier or tracking service tells Balie about a parcel
and its scans. Signed like Balie's own outgoing webhooks (`security.sign`: "sha256=" + hex
HMAC-SHA256 of "<timestamp>.<body>" with the shop's tracking secret), so an integrator learns
one scheme. Here: the signature check, the payload's shape, and applying it through the
shipments core (which keeps repeats and late scans right). The caller commits."""

from __future__ import annotations

import datetime as dt
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from balie import clock, security
from balie.commerce import checks, shipments, tracking_pg, tracking_status
from balie.errors import Invalid, Unauthorized

# A signed delivery older (or newer) than this is refused: a captured one cannot be replayed
# later. Senders retry with a fresh timestamp and signature.
REPLAY_WINDOW = dt.timedelta(minutes=5)
MAX_BODY_BYTES = 256 * 1024
MAX_EVENTS = 200


@dataclass(frozen=True)
class Payload:
    carrier: str
    tracking_code: str
    order_number: str | None
    tracking_url: str | None
    status_source: str
    events: list[shipments.EventInput]  # normalised; events whose raw status says nothing are left out
    ignored: int


@dataclass(frozen=True)
class Applied:
    shipment_id: int
    order_id: int | None
    status: str | None
    created: bool
    added: int
    known: int
    ignored: int


def verify(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> None:
    """Unauthorized (with the reason, for the log) unless the signature is right and fresh."""
    if not signature:
        raise Unauthorized("missing X-Balie-Signature", code="invalid_signature")
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized("missing or malformed X-Balie-Timestamp (Unix seconds)", code="invalid_signature")
    expected = security.sign(secret, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise Unauthorized("wrong X-Balie-Signature", code="invalid_signature")
    if abs(clock.now().timestamp() - int(timestamp)) > REPLAY_WINDOW.total_seconds():
        raise Unauthorized("X-Balie-Timestamp is more than 5 minutes from now: sign each delivery when sending it",
                           code="stale_signature")


def parse(body: bytes) -> Payload:
    """The payload's fields, each wrong one named; raw statuses mapped (tracking_status)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise Invalid("the body is not JSON", code="malformed_payload") from None
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object", code="malformed_payload")
    source = data.get("status_source", "balie")
    if source not in tracking_status.STATUS_SOURCES:
        raise Invalid(f"status_source: one of {', '.join(tracking_status.STATUS_SOURCES)}", code="invalid_field")
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        raise Invalid("events: expected a list", code="invalid_field")
    if len(raw_events) > MAX_EVENTS:
        raise Invalid(f"events: at most {MAX_EVENTS} in one delivery", code="invalid_field")
    events, ignored = [], 0
    for index, item in enumerate(raw_events):
        where = f"events[{index}]"
        if not isinstance(item, dict):
            raise Invalid(f"{where}: expected an object", code="invalid_field")
        raw = item.get("status")
        status = tracking_status.normalise(raw, source, field=f"{where}.status")
        occurred_at = _moment(item.get("occurred_at"), f"{where}.occurred_at")
        description = checks.line(item.get("description"), f"{where}.description", max_length=1000, required=False)
        if status is None:
            ignored += 1
            continue
        events.append(shipments.EventInput(status=status, occurred_at=occurred_at, description=description,
                                           raw_status="" if source == "balie" else str(raw).strip()[:64]))
    number = data.get("order_number")
    if number is not None:
        number = checks.line(number, "order_number", max_length=64).lstrip("#") or None
    return Payload(
        carrier=checks.line(data.get("carrier"), "carrier", max_length=64),
        tracking_code=checks.line(data.get("tracking_code"), "tracking_code", max_length=128),
        order_number=number,
        tracking_url=checks.url(data.get("tracking_url"), "tracking_url"),
        status_source=source, events=events, ignored=ignored,
    )


def _moment(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise Invalid(f"{field}: expected an ISO 8601 date and time with a zone", code="invalid_field")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{field}: {value[:40]!r} is not an ISO 8601 date and time", code="invalid_field") from None
    moment = checks.moment(parsed, field)
    assert moment is not None
    if moment > clock.now() + shipments.FUTURE_SLACK:
        raise Invalid(f"{field}: {moment.isoformat()} is in the future", code="invalid_field")
    return moment


def apply(session: Session, shop_id: int, payload: Payload) -> Applied:
    """Finds or creates the parcel and adds its scans. A parcel Balie does not know needs the
    order number (the order itself may come later: the parcel waits for it)."""
    if session.get_bind().dialect.name == "postgresql":
        fast = tracking_pg.try_apply(
            session, shop_id, carrier=payload.carrier, tracking_code=payload.tracking_code,
            order_number=payload.order_number, tracking_url=payload.tracking_url, events=payload.events,
            now=clock.now())
        if fast is not None:
            if fast.changed:
                shipments.announce(session, shop_id, fast.shipment_id, fast.order_id, fast.status)
            return Applied(fast.shipment_id, fast.order_id, fast.status, created=False, added=fast.added,
                           known=len(payload.events) - fast.added, ignored=payload.ignored)
    shipment = shipments.by_tracking_code(session, shop_id, payload.tracking_code, payload.carrier)
    created = False
    if payload.order_number is not None or shipment is None:
        if payload.order_number is None:
            raise Invalid("order_number: required for a parcel Balie does not know yet", code="invalid_field")
        saved = shipments.save(session, shop_id, shipments.ShipmentInput(
            order_number=payload.order_number, carrier=payload.carrier, tracking_code=payload.tracking_code,
            tracking_url=payload.tracking_url), source="tracking")
        shipment, created = saved.shipment, saved.created
    elif payload.tracking_url:
        shipment.tracking_url = payload.tracking_url
    added = known = 0
    for event in payload.events:
        if shipments.add_event(session, shipment, event, source="tracking").created:
            added += 1
        else:
            known += 1
    session.flush()
    return Applied(shipment.id, shipment.order_id, shipment.status, created=created, added=added, known=known,
                   ignored=payload.ignored)
