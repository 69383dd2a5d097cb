"""One Shopify webhook delivery: its signature, its topic, and what it changes, taken once.

The signature (`X-Shopify-Hmac-SHA256`) is the base64 HMAC-SHA256 of the raw body with the
shop's Shopify secret. A delivery id (`X-Shopify-Webhook-Id`) seen before changes nothing;
it is recorded in the transaction that applies the delivery (commerce/deliveries.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie.commerce import deliveries, orders, shipments
from balie.commerce.models import Order
from balie.commerce.shopify import payloads, privacy
from balie.errors import Invalid

PLATFORM = "shopify"
SOURCE = "shopify"


def signature_valid(secret: str, body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


@dataclass(frozen=True)
class Outcome:
    applied: bool  # False: a delivery taken before
    detail: str


def apply_order(session: Session, shop_id: int, payload: dict[str, Any]) -> str:
    data = payloads.order_input(payload)
    try:
        saved = orders.save(session, shop_id, data, source=SOURCE)
    except Invalid as error:
        raise payloads.renamed(error) from None
    for index, item in enumerate(payloads.list_at(payload, "fulfillments")):
        if not isinstance(item, dict):
            raise payloads.invalid(f"fulfillments[{index}]", "expected an object")
        _apply_fulfillment(session, shop_id, item, f"fulfillments[{index}].", number=saved.order.number)
    if saved.created:
        return f"order {saved.order.number} created"
    return f"order {saved.order.number} updated" if saved.changed else f"order {saved.order.number} unchanged"


def apply_fulfillment(session: Session, shop_id: int, payload: dict[str, Any]) -> str:
    return _apply_fulfillment(session, shop_id, payload, "")


def _apply_fulfillment(session: Session, shop_id: int, payload: dict[str, Any], where: str,
                       number: str | None = None) -> str:
    found = payloads.fulfillment(payload, where)
    number = number or found.number_from_name or _number_of(session, shop_id, found.order_id)
    if number is None:
        raise payloads.invalid(f"{where}name", "required when the order is not known yet (such as #1001.1)")
    parcels = payloads.parcels_of(found, number)
    for parcel in parcels:
        try:
            shipment = shipments.save(session, shop_id, parcel.shipment, source=SOURCE).shipment
            # A repeat of the status Balie has (a change of something else) is no new scan.
            if parcel.event is not None and shipment.status != parcel.event.status:
                shipments.add_event(session, shipment, parcel.event, source=SOURCE)
        except Invalid as error:
            raise Invalid(where + payloads.renamed(error, payloads.PARCEL_FIELDS).detail, code=error.code) from None
    return f"{len(parcels)} parcel(s) of order {number}"


def _number_of(session: Session, shop_id: int, order_id: str | None) -> str | None:
    if order_id is None:
        return None
    return session.scalar(select(Order.number).where(Order.shop_id == shop_id, Order.source == SOURCE,
                                                     Order.external_id == order_id).limit(1))


def _privacy(action: Callable[[Session, int, dict[str, Any]], None], done: str) -> Callable[
        [Session, int, dict[str, Any]], str]:
    def run(session: Session, shop_id: int, payload: dict[str, Any]) -> str:
        action(session, shop_id, payload)
        return done
    return run


HANDLERS: dict[str, Callable[[Session, int, dict[str, Any]], str]] = {
    "orders/create": apply_order,
    "orders/updated": apply_order,
    "orders/cancelled": apply_order,
    "fulfillments/create": apply_fulfillment,
    "fulfillments/update": apply_fulfillment,
    "customers/data_request": _privacy(privacy.data_request, "data request recorded"),
    "customers/redact": _privacy(privacy.redact_customer, "customer redacted"),
    "shop/redact": _privacy(privacy.redact_shop, "shop redaction scheduled: the worker erases what Shopify gave"),
}
TOPICS = tuple(HANDLERS)


def apply(session: Session, shop_id: int, topic: str, delivery_id: str, payload: Any) -> Outcome:
    """Flushes; the caller commits (or rolls back on an error: nothing of it is kept)."""
    if not isinstance(payload, dict):
        raise Invalid("body: expected a JSON object", code="invalid_field")
    if not deliveries.first_time(session, shop_id, PLATFORM, delivery_id, topic):
        return Outcome(applied=False, detail="delivery taken before: nothing changed")
    return Outcome(applied=True, detail=HANDLERS[topic](session, shop_id, payload))
