"""WooCommerce's order webhooks: the signature (`X-WC-Webhook-Signature`, base64 HMAC-SHA256 of
the raw body with the connection's secret), the unsigned ping it sends when a webhook is
saved, and what `order.created`, `order.updated`, `order.restored` and `order.deleted` change.
The caller owns the transaction."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from balie import clock
from balie.commerce import deliveries, orders
from balie.commerce.models import Order
from balie.commerce.woocommerce import mapping
from balie.db import scoped
from balie.errors import Invalid
from balie.events import Event, publish_on_commit

log = logging.getLogger(__name__)

PLATFORM = "woocommerce"
ORDER_TOPICS = ("order.created", "order.updated", "order.restored")
DELETED = "order.deleted"
_PING = re.compile(rb"webhook_id=\d{1,20}")


@dataclass(frozen=True)
class Result:
    outcome: str  # created, updated, unchanged, cancelled, duplicate, ignored, unknown_order
    order_id: int | None = None


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def is_ping(body: bytes, topic: str | None, signature: str | None) -> bool:
    """What WooCommerce posts to a webhook's URL when it is saved: `webhook_id=<n>`, form-encoded,
    without a topic or signature. It must get a 2xx or the shop cannot save the webhook."""
    return not topic and not signature and _PING.fullmatch(body.strip()) is not None


def parse(body: bytes) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise Invalid("body: not JSON", code="invalid_body") from None


def receive(session: Session, shop_id: int, *, topic: str, delivery_id: str, payload: object) -> Result:
    """Applies one signed delivery once (the delivery id is recorded in this transaction)."""
    if topic not in (*ORDER_TOPICS, DELETED):
        log.info("woocommerce webhook for shop %s: topic %r ignored", shop_id, topic[:64])
        return Result("ignored")
    data = mapping.order_input(payload) if topic in ORDER_TOPICS else None
    order_id = _deleted_id(payload) if data is None else None
    if not deliveries.first_time(session, shop_id, PLATFORM, delivery_id, topic):
        return Result("duplicate")
    if data is not None:
        saved = orders.save(session, shop_id, data, source=PLATFORM)
        outcome = "created" if saved.created else "updated" if saved.changed else "unchanged"
        return Result(outcome, saved.order.id)
    assert order_id is not None
    return cancel_deleted(session, shop_id, order_id)


def _deleted_id(payload: object) -> int:
    """`order.deleted` carries only `{"id": <the order's id>}`."""
    value = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("id: expected the order's id (a whole number)", code="invalid_field")
    return value


def cancel_deleted(session: Session, shop_id: int, woocommerce_id: int) -> Result:
    """A deleted (or trashed) order stays in Balie with its history, cancelled: conversations and
    returns may still refer to it. An update newer than the one held reopens it (a restore)."""
    order = session.scalars(scoped(Order, shop_id).where(Order.external_id == str(woocommerce_id))).first()
    if order is None:
        return Result("unknown_order")
    if order.status == "cancelled":
        return Result("unchanged", order.id)
    order.status, order.updated_at = "cancelled", clock.now()
    session.flush()
    publish_on_commit(session, Event("order.updated", shop_id, {"order_id": order.id, "number": order.number,
                                                                "customer_id": order.customer_id}))
    return Result("cancelled", order.id)
