"""The customer's orders beside a conversation, shaped for _orders.html: each order with its
lines, promise, parcels (last scan, carrier, tracking link) and return cases (where each stands,
the refund's due date, the withdrawal period), the texts one click inserts into the reply (in
the customer's language), and the order numbers in the messages as links.

Customer text reaches the page escaped: a message is escaped first and only then are the
order numbers the shop has turned into links; a tracking address is linked only when http(s)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from balie import clock
from balie.commerce import in_conversation, mentions
from balie.commerce import texts as order_texts
from balie.commerce.in_conversation import OrderView
from balie.customers import language as customer_language
from balie.returns import in_conversation as returns_beside
from balie.returns import service as return_service
from balie.returns.models import ReturnCase
from balie.shops import service as shop_service
from balie.ui.routing import N_

SHOWN = 5  # orders shown at once; the rest behind "more"
ORDER_STATUS_LABELS = {"open": N_("Open"), "completed": N_("Completed"), "cancelled": N_("Cancelled")}
DELIVERY_LABELS = {
    "none": N_("Not shipped yet"), "info_received": N_("Announced to the carrier"), "in_transit": N_("In transit"),
    "out_for_delivery": N_("Out for delivery"), "delivered": N_("Delivered"),
    "delivery_failed": N_("Delivery failed (not home)"), "available_for_pickup": N_("Ready for pick-up"),
    "exception": N_("Problem at the carrier"), "returned_to_sender": N_("Returned to sender"),
}
RETURN_STATUS_LABELS = {"requested": N_("Requested"), "sent_back": N_("Sent back"), "received": N_("Goods received"),
                        "refunded": N_("Refunded")}
# The refund promise, as /returns shows it (a refunded case says so in its status instead).
REFUND_STATE_LABELS = {"on_track": N_("On track"), "due_soon": N_("Due soon"), "breached": N_("Overdue")}


def anchor(view: OrderView) -> str:
    return f"order-{view.order.id}"


def _parcel(parcel: in_conversation.Parcel, language: str) -> dict[str, Any]:
    shipment, last = parcel.shipment, parcel.last_event
    return {
        "id": shipment.id, "carrier": shipment.carrier, "tracking_code": shipment.tracking_code,
        "tracking_url": order_texts.safe_url(shipment.tracking_url),
        "status": shipment.status or "none", "status_at": shipment.status_at,
        "last_event": {"status": last.status, "at": last.occurred_at, "description": last.description}
        if last else None,
        "events": [{"status": event.status, "at": event.occurred_at, "description": event.description}
                   for event in reversed(parcel.events)],
        "insert": order_texts.tracking_line(shipment, language),
    }


def _return(case: ReturnCase, zone: ZoneInfo, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": case.id, "status": returns_beside.status(case),
        "withdrawn_on": case.withdrawn_at.astimezone(zone).date(),
        "refund_state": return_service.refund_state(case, now), "refund_due_on": case.refund_due_on,
        "refunded_on": case.refunded_at.astimezone(zone).date() if case.refunded_at else None,
        "period_ends_on": case.period_ends_on, "in_time": case.in_time, "delivery_unknown": case.delivery_unknown,
    }


def _order(view: OrderView, cases: list[ReturnCase], *, mentioned: bool, focus: bool, language: str,
           zone: ZoneInfo, now: dt.datetime) -> dict[str, Any]:
    order, promise = view.order, view.promise
    parcels = [item.shipment for item in view.parcels]
    # After a broken promise the panel shows the new date the customer was told, as they read
    # it, and the checkout's promise beside it.
    checkout = order.promised_delivery_date or (
        order.promised_window_start.astimezone(zone).date() if order.promised_window_start else None)
    return {
        "id": order.id, "anchor": anchor(view), "number": order.number, "placed_at": order.placed_at,
        "total": order.total, "currency": order.currency, "status": order.status,
        "payment_status": order.payment_status, "delivery_status": order.delivery_status or "none",
        "delivered_at": order.delivered_at, "promised_date": promise.date,
        "window_start": promise.window[0] if promise.window else None,
        "window_end": promise.window[1] if promise.window else None,
        "revised": promise.revised, "checkout_date": checkout,
        "own": view.own, "mentioned": mentioned, "focus": focus,
        "lines": [{"sku": line.sku, "name": line.name, "quantity": line.quantity, "price": line.price}
                  for line in view.lines],
        "parcels": [_parcel(parcel, language) for parcel in view.parcels],
        "returns": [_return(case, zone, now) for case in cases],
        # Inserting another customer's order into this customer's reply is not one click away.
        "insert_summary": order_texts.summary(order, view.lines, parcels, promise, language, zone,
                                              now.astimezone(zone).date()) if view.own else "",
    }


def orders_context(session: Session, shop_id: int, customer_id: int, known_language: str,
                   message_texts: Sequence[str]) -> dict[str, Any]:
    """The panel's orders (mentioned ones always among those shown) with their return cases, the
    numbers to link, the reply language, and the {{order.*}} variables of the order the
    conversation is about."""
    candidates = mentions.candidates(message_texts)
    views = in_conversation.beside(session, shop_id, customer_id, candidates)
    cases = returns_beside.of_orders(session, shop_id, [view.order.id for view in views])
    known = {view.order.number: anchor(view) for view in views}
    linked = {number: known[number] for number in candidates if number in known}
    shop = shop_service.get(session, shop_id)
    language = customer_language.of_customer(known_language, shop.language)
    zone, now = in_conversation.zone_of(shop.time_zone), clock.now()
    focus = in_conversation.pick([view.order for view in views], customer_id, candidates)
    focus_view = next((view for view in views if view.order is focus), None)
    shaped = [_order(view, cases.get(view.order.id, []), mentioned=view.order.number in linked,
                     focus=view.order is focus, language=language, zone=zone, now=now) for view in views]
    first = [item for index, item in enumerate(shaped) if index < SHOWN or item["mentioned"]]
    return {
        "orders": first,
        "more_orders": [item for index, item in enumerate(shaped) if not (index < SHOWN or item["mentioned"])],
        "order_links": linked,
        "reply_language": language,
        "order_variables": in_conversation.variables(
            focus, [parcel.shipment for parcel in focus_view.parcels] if focus_view else [],
            focus_view.promise if focus_view else None, language, zone, now),
        "order_status_labels": ORDER_STATUS_LABELS,
        "delivery_labels": DELIVERY_LABELS,
        "return_status_labels": RETURN_STATUS_LABELS,
        "refund_state_labels": REFUND_STATE_LABELS,
    }


def linked_text(text: str, links: dict[str, str]) -> Markup | None:
    """The message with the shop's order numbers as links to the panel; None when it names none.
    Every piece of the customer's text is escaped; only our own <a> is markup."""
    if not links:
        return None
    found = [mention for mention in mentions.find(text) if mention.number in links]
    if not found:
        return None
    parts: list[Markup] = []
    position = 0
    for mention in found:
        parts.append(escape(text[position:mention.start]))
        parts.append(Markup('<a class="order-mention" href="#{}" data-order-number="{}">{}</a>').format(
            links[mention.number], mention.number, text[mention.start:mention.end]))
        position = mention.end
    parts.append(escape(text[position:]))
    return Markup("").join(parts)
