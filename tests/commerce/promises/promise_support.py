"""Shared by the promise tests: a shop that watches its promises, an order with a next-day
promise as the shop's system posts it, parcels and scans through the API, and the worker."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from factories import Tenant

# The real SMTP sink lives with the e-mail channel's tests; Shopify's signed deliveries with
# the Shopify webhook's.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "channels" / "email_out"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AMSTERDAM = dt.timezone(dt.timedelta(hours=1))  # November: CET


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in November 2026, Amsterdam time (the shop's zone)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=AMSTERDAM)


def order(number: str = "10023", *, promised: str | None = "2026-11-24", total: str = "938.90",
          email: str | None = "jan@example.nl", placed_at: str = "2026-11-23T21:40:00+01:00",
          **extra: Any) -> dict[str, Any]:
    customer: dict[str, Any] = {"name": "Jan Jansen"}
    if email:
        customer["email"] = email
    body: dict[str, Any] = {
        "number": number, "customer": customer,
        "lines": [{"sku": "LAP-14", "name": "Laptop 14 inch", "quantity": 1, "price": total}],
        "total": total, "currency": "EUR", "placed_at": placed_at, "promised_delivery_date": promised,
    }
    body.update(extra)
    return body


def watching(client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
             **settings: Any) -> None:
    """Monday 23 November at noon: the shop has a mailbox and watches its promises (with these
    settings changed)."""
    from smtp_sink import add_mailbox

    frozen_clock.current = local(23, 12)
    add_mailbox(factory, tenant)
    enable(client, tenant, **settings)


def post_order(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/orders", json=body, headers=tenant.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def shopify_order(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> dict[str, Any]:
    """Order 10023 as Shopify delivers it (signed `orders/create`), promised for Tuesday the
    24th in the checkout's note attribute; the order as Balie's API then shows it."""
    import shopify_support

    key = shopify_support.connect(client, tenant, factory)
    payload = shopify_support.order(name="#10023", order_number=10023, total_price="938.90")
    response = shopify_support.deliver(client, key, "orders/create", payload)
    assert response.status_code == 200, response.text
    [placed] = client.get("/api/v1/orders?number=10023", headers=tenant.headers).json()["items"]
    assert placed["source"] == "shopify" and placed["promise"]["date"] == "2026-11-24"
    return placed  # type: ignore[no-any-return]


def enable(client: TestClient, tenant: Tenant, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"enabled": True}
    body.update(changes)
    response = client.put("/api/v1/commerce/promise-settings", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def ship(client: TestClient, tenant: Tenant, number: str = "10023", *, carrier: str = "PostNL",
         code: str = "3SABCD1234567") -> int:
    response = client.post("/api/v1/shipments", headers=tenant.headers, json={
        "order_number": number, "carrier": carrier, "tracking_code": code,
        "tracking_url": f"https://tracking.example/{code}"})
    assert response.status_code in (200, 201), response.text
    return int(response.json()["id"])


def scan(client: TestClient, tenant: Tenant, shipment_id: int, status: str, at: dt.datetime,
         description: str = "") -> None:
    response = client.post(f"/api/v1/shipments/{shipment_id}/events", headers=tenant.headers,
                           json={"status": status, "occurred_at": at.isoformat(), "description": description})
    assert response.status_code in (200, 201), response.text


def breaches(client: TestClient, tenant: Tenant, order_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/orders/{order_id}/promise-breaches", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def vouchers(client: TestClient, tenant: Tenant, order_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/orders/{order_id}/vouchers", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def run_worker(app: Any, passes: int = 3) -> None:
    """The worker as `balie serve` runs it, a few passes: scan, act, deliver."""
    for _ in range(passes):
        app.state.worker.run_once()
