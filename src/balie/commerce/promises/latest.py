"""What a customer was last promised for an order: the new expected date the promise monitor
told them after the checkout promise broke, else the checkout's date or window. Everything
that tells a customer (or an agent) when an order comes asks here, so the customer never
hears two different dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie.commerce.models import Order
from balie.commerce.promises.models import Breach

# The customer was told the breach's new expected date. An `unreachable` breach told nobody
# (agents got a note to reach the customer another way); an `escalated` one (the second
# breach) sent no message either, so its own new date was never a promise.
TOLD = "notified"


@dataclass(frozen=True)
class Promise:
    """A day, or a window on a day; `revised` when it is the new date after a broken promise."""

    date: dt.date | None = None
    window: tuple[dt.datetime, dt.datetime] | None = None
    revised: bool = False

    @classmethod
    def at_checkout(cls, order: Order) -> Promise:
        if order.promised_window_start is not None and order.promised_window_end is not None:
            return cls(window=(order.promised_window_start, order.promised_window_end))
        return cls(date=order.promised_delivery_date)


def promised(session: Session, shop_id: int, orders: Sequence[Order]) -> dict[int, Promise]:
    """The promise each order last had, by order id: one query for any number of orders."""
    if not orders:
        return {}
    told: dict[int, dt.date] = {}
    # Oldest generation first: a later told date replaces an earlier one.
    for row in session.execute(
            select(Breach.order_id, Breach.new_expected_date)
            .where(Breach.shop_id == shop_id, Breach.order_id.in_(sorted({order.id for order in orders})),
                   Breach.state == TOLD)
            .order_by(Breach.order_id, Breach.generation)):
        told[row.order_id] = row.new_expected_date
    return {order.id: Promise(date=told[order.id], revised=True) if order.id in told else Promise.at_checkout(order)
            for order in orders}
