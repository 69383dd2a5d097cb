"""Shared by the commerce tests: an order as a shop's system posts it, and posting it."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from factories import Tenant

ORDER: dict[str, Any] = {
    "number": "10023",
    "customer": {"email": "Jan@Example.nl", "name": "Jan Jansen", "phone": "06 12345678"},
    "lines": [{"sku": "LAP-14", "name": "Laptop 14 inch", "quantity": 1, "price": "899.00", "cost_price": "700.00"},
              {"sku": "HOES", "name": "Laptophoes", "quantity": 2, "price": 19.95}],
    "total": "938.90",
    "currency": "EUR",
    "placed_at": "2026-11-23T21:40:00+01:00",
    "promised_delivery_date": "2026-11-24",
}


def post(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/orders", json=body, headers=tenant.headers)


def order_with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    body.update(changes)
    return body
