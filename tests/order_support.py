"""Orders and parcels for the conversation tests, saved through the commerce core."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from balie.commerce import orders, shipments
from balie.commerce.orders import CustomerInput, LineInput, OrderInput
from balie.commerce.shipments import EventInput, ShipmentInput

PLACED = dt.datetime(2026, 11, 23, 20, 40, tzinfo=dt.UTC)


def place(factory: sessionmaker[Session], shop_id: int, number: str, *, email: str = "jan@example.nl",
          placed_at: dt.datetime = PLACED, promised: dt.date | None = dt.date(2026, 11, 25),
          window: tuple[dt.datetime, dt.datetime] | None = None, status: str = "open",
          parcel: dict[str, Any] | None = None, scans: list[tuple[str, dt.datetime, str]] = ()) -> int:  # type: ignore[assignment]
    """An order of two lines; with `parcel` a shipment, with `scans` its tracking events."""
    with factory() as session, session.begin():
        saved = orders.save(session, shop_id, OrderInput(
            number=number, total="938.90", currency="EUR", placed_at=placed_at, status=status,
            customer=CustomerInput(email=email, name="Jan Jansen"),
            lines=[LineInput(sku="LAP-14", name="Laptop 14 inch", quantity=1, price="899.00"),
                   LineInput(sku="HOES", name="Laptophoes", quantity=2, price="19.95")],
            promised_delivery_date=promised, promised_window=window), source="api")
        if parcel is not None:
            shipment = shipments.save(session, shop_id, ShipmentInput(order_number=number, **parcel),
                                      source="api").shipment
            for status_, at, description in scans:
                shipments.add_event(session, shipment, EventInput(status=status_, occurred_at=at,
                                                                  description=description), source="api")
        return saved.order.id


POSTNL = {"carrier": "PostNL", "tracking_code": "3SABC123", "tracking_url": "https://postnl.example/track/3SABC123"}
