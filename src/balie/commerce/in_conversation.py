"""Orders in a conversation: the customer's orders with their lines and parcels beside it, the
order numbers its messages mention, the one order it is about (for {{order.*}} variables in
canned replies and rules, and for the acknowledgement's live status).

The order a conversation is about is one of the customer's own: the one mentioned last, else
their newest open order not yet delivered. An order number someone else's message names is
never told to this customer automatically. Each order comes with the promise the customer last
had (promises/latest.py): after a broken promise, the new date they were told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie.commerce import mentions, orders, shipments, texts
from balie.commerce.models import Order, OrderLine, Shipment, TrackingEvent
from balie.commerce.promises import latest
from balie.commerce.promises.latest import Promise
from balie.conversations.models import Conversation, Message
from balie.db import scoped

LOADED = 20  # the customer's newest orders beside a conversation
SEARCHED = 50  # the customer's newest orders among which a mentioned one is looked for
SCANNED_MESSAGES = 50  # the customer's latest messages searched for order numbers
# Variables canned replies and rules may use; each is "" when the conversation has no order.
VARIABLES = ("order.number", "order.status", "order.delivery_status", "order.total", "order.placed_date",
             "order.promised_date", "order.carrier", "order.tracking_code", "order.tracking_url",
             "order.live_status")


@dataclass(frozen=True)
class Parcel:
    shipment: Shipment
    events: list[TrackingEvent]  # oldest first, as it travelled

    @property
    def last_event(self) -> TrackingEvent | None:
        return max(self.events, key=lambda event: (event.occurred_at, event.id)) if self.events else None


@dataclass(frozen=True)
class OrderView:
    order: Order
    lines: list[OrderLine]
    parcels: list[Parcel]
    own: bool  # the conversation's customer's order (not only mentioned by them)
    promise: Promise  # what the customer was last promised


def pick(candidates: Sequence[Order], customer_id: int, mentioned: Sequence[str]) -> Order | None:
    """The order a conversation is about: among the customer's own, the one mentioned last,
    else the newest open one not yet delivered."""
    own = [order for order in candidates if order.customer_id == customer_id]
    by_number = {order.number: order for order in own}
    for number in reversed(mentioned):
        if number in by_number:
            return by_number[number]
    waiting = [order for order in own if order.status == "open" and order.delivered_at is None]
    return max(waiting, key=lambda order: (order.placed_at, order.id)) if waiting else None


def beside(session: Session, shop_id: int, customer_id: int, mentioned: Sequence[str]) -> list[OrderView]:
    """The customer's newest orders (newest first), then orders the conversation mentions that
    are not among them (another customer's, or older): lines, parcels, scans and promises in four
    more queries whatever the number of orders."""
    own = orders.of_customer(session, shop_id, customer_id, limit=LOADED)
    known = {order.number for order in own}
    missing = [number for number in mentioned if number not in known][:mentions.MAX_NUMBERS]
    others = list(session.scalars(scoped(Order, shop_id).where(Order.number.in_(missing)))) if missing else []
    others.sort(key=lambda order: missing.index(order.number))
    found = own + others
    if not found:
        return []
    ids = [order.id for order in found]
    lines: dict[int, list[OrderLine]] = {order_id: [] for order_id in ids}
    for line in session.scalars(scoped(OrderLine, shop_id).where(OrderLine.order_id.in_(ids))
                                .order_by(OrderLine.order_id, OrderLine.position)):
        lines[line.order_id].append(line)
    parcels = shipments.of_orders(session, shop_id, ids)
    shipment_ids = [parcel.id for group in parcels.values() for parcel in group]
    scans: dict[int, list[TrackingEvent]] = {shipment_id: [] for shipment_id in shipment_ids}
    if shipment_ids:
        for event in session.scalars(scoped(TrackingEvent, shop_id).where(TrackingEvent.shipment_id.in_(shipment_ids))
                                     .order_by(TrackingEvent.occurred_at, TrackingEvent.id)):
            scans[event.shipment_id].append(event)
    promises = latest.promised(session, shop_id, found)
    return [OrderView(order, lines[order.id], [Parcel(parcel, scans[parcel.id]) for parcel in parcels[order.id]],
                      own=order.customer_id == customer_id, promise=promises[order.id])
            for order in found]


def customer_texts(session: Session, conversation: Conversation) -> list[str]:
    """The customer's latest messages in the conversation, oldest first."""
    rows = session.scalars(select(Message.text).where(
        Message.shop_id == conversation.shop_id, Message.conversation_id == conversation.id,
        Message.direction == "in").order_by(Message.id.desc()).limit(SCANNED_MESSAGES))
    return list(reversed(list(rows)))


@dataclass(frozen=True)
class Focus:
    order: Order
    parcels: list[Shipment]
    promise: Promise


def focus(session: Session, shop_id: int, customer_id: int, messages: Sequence[str]) -> Focus | None:
    """The order these messages of the customer are about, with its parcels and the promise the
    customer last had; None without one."""
    order = pick(orders.of_customer(session, shop_id, customer_id, limit=SEARCHED), customer_id,
                 mentions.candidates(messages))
    if order is None:
        return None
    return Focus(order, shipments.of_orders(session, shop_id, [order.id])[order.id],
                 latest.promised(session, shop_id, [order])[order.id])


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Amsterdam")


def variables(order: Order | None, parcels: Sequence[Shipment], promise: Promise | None, language: str,
              zone: ZoneInfo, now: dt.datetime) -> dict[str, str]:
    """{{order.*}} for canned replies and rules, in the customer's language; all "" without an
    order. `promise` is the order's from latest.promised."""
    if order is None or promise is None:
        return dict.fromkeys(VARIABLES, "")
    parcel = texts.newest_parcel(parcels)
    code = language if language in texts.LANGUAGES else "nl"
    return {
        "order.number": order.number,
        "order.status": texts.ORDER_STATUS[code].get(order.status, order.status),
        "order.delivery_status": texts.status_words(order, code),
        "order.total": texts.money(order.total, order.currency, code),
        "order.placed_date": texts.day(order.placed_at.astimezone(zone).date(), code),
        "order.promised_date": texts.promise(promise, code, zone),
        "order.carrier": parcel.carrier if parcel else "",
        "order.tracking_code": parcel.tracking_code if parcel else "",
        "order.tracking_url": (texts.safe_url(parcel.tracking_url) or "") if parcel else "",
        "order.live_status": texts.live_status(order, parcels, promise, code, zone, now.astimezone(zone).date()),
    }


def of_conversation(session: Session, conversation: Conversation, *, language: str, zone: ZoneInfo,
                    now: dt.datetime) -> dict[str, str]:
    """The {{order.*}} variables for a reply in this conversation (a rule's canned reply)."""
    found = focus(session, conversation.shop_id, conversation.customer_id, customer_texts(session, conversation))
    if found is None:
        return variables(None, [], None, language, zone, now)
    return variables(found.order, found.parcels, found.promise, language, zone, now)
