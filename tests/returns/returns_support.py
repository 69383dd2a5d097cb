"""Shared by the returns tests: an order with a delivered parcel, as the shop's systems post it."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from factories import Tenant

# Two lines worth 938.90 - 4.95 delivery: 899.00 + 2 × 17.475 is not exact, so: 899.00 + 2 × 15.00.
ORDER: dict[str, Any] = {
    "number": "10023",
    "customer": {"email": "Jan@Example.nl", "name": "Jan Jansen"},
    "lines": [{"sku": "LAP-14", "name": "Laptop 14 inch", "quantity": 1, "price": "899.00"},
              {"sku": "HOES", "name": "Laptophoes", "quantity": 2, "price": "15.00"}],
    "total": "935.95",  # lines 929.00 + delivery 6.95
    "currency": "EUR",
    "placed_at": "2026-11-18T21:40:00+01:00",
}


def order_with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    body.update(changes)
    return body


def post_order(client: TestClient, tenant: Tenant, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/orders", json=body or ORDER, headers=tenant.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def deliver(client: TestClient, tenant: Tenant, number: str, occurred_at: str) -> None:
    shipment = client.post("/api/v1/shipments", json={"order_number": number, "carrier": "postnl",
                                                      "tracking_code": f"3S{number}"}, headers=tenant.headers)
    assert shipment.status_code in (200, 201), shipment.text
    event = client.post(f"/api/v1/shipments/{shipment.json()['id']}/events",
                        json={"status": "delivered", "occurred_at": occurred_at}, headers=tenant.headers)
    assert event.status_code in (200, 201), event.text


def post_return(client: TestClient, tenant: Tenant, **body: Any) -> Any:
    payload: dict[str, Any] = {"order_number": "10023"}
    payload.update(body)
    return client.post("/api/v1/returns", json=payload, headers=tenant.headers)


def put_settings(client: TestClient, tenant: Tenant, **body: Any) -> Any:
    payload: dict[str, Any] = {"policy": "resellable", "standard_delivery_cost": None, "exceptions": []}
    payload.update(body)
    response = client.put("/api/v1/returns/settings", json=payload, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()
