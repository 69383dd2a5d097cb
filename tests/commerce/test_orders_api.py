"""POST/GET /api/v1/orders: the contract, updates by order number, stale updates, and what
it does with malformed, oversized, hostile, repeated and foreign input."""

from __future__ import annotations

from typing import Any

import pytest
from commerce_support import ORDER, order_with, post
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie.commerce.models import Order, OrderLine
from balie.customers.models import Identity
from factories import Tenant


def test_an_order_is_stored_with_its_customer_lines_and_promise(client: TestClient, tenant: Tenant,
                                                               factory: sessionmaker[Session]) -> None:
    response = post(client, tenant, ORDER)

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["number"] == "10023" and order["currency"] == "EUR" and order["total"] == "938.90"
    assert order["promise"] == {"date": "2026-11-24", "window_start": None, "window_end": None}
    assert [(line["sku"], line["quantity"], line["price"]) for line in order["lines"]] == [
        ("LAP-14", 1, "899.00"), ("HOES", 2, "19.95")]
    assert order["placed_at"].startswith("2026-11-23T20:40:00")
    with factory() as session:
        kinds = set(session.execute(select(Identity.kind, Identity.value).where(
            Identity.customer_id == order["customer_id"])).all())
    assert kinds == {("email", "jan@example.nl"), ("phone", "+31612345678")}
    customer = client.get(f"/api/v1/customers/{order['customer_id']}", headers=tenant.headers).json()
    assert customer["name"] == "Jan Jansen"


def test_the_same_number_again_updates_the_order_and_a_repeat_changes_nothing(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    first = post(client, tenant, ORDER).json()
    repeat = post(client, tenant, ORDER)
    updated = post(client, tenant, order_with(lines=[ORDER["lines"][0]], total="899.00", payment_status="paid"))

    assert repeat.status_code == 200 and repeat.json()["updated_at"] == first["updated_at"]
    assert updated.status_code == 200
    assert updated.json()["id"] == first["id"]
    assert [line["sku"] for line in updated.json()["lines"]] == ["LAP-14"]
    assert updated.json()["payment_status"] == "paid"
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(OrderLine)) == 1


def test_an_update_older_than_the_one_held_is_ignored(client: TestClient, tenant: Tenant) -> None:
    post(client, tenant, order_with(updated_at="2026-11-24T10:00:00+01:00", payment_status="paid"))
    late = post(client, tenant, order_with(updated_at="2026-11-24T09:00:00+01:00", payment_status="pending"))
    newer = post(client, tenant, order_with(updated_at="2026-11-24T11:00:00+01:00", status="cancelled",
                                            payment_status="refunded"))

    assert late.status_code == 200 and late.json()["payment_status"] == "paid"
    assert newer.json()["status"] == "cancelled" and newer.json()["payment_status"] == "refunded"


def test_orders_are_listed_per_customer_and_number_newest_first(client: TestClient, tenant: Tenant) -> None:
    for number, day in (("1", "20"), ("2", "22"), ("3", "21")):
        post(client, tenant, order_with(number=number, placed_at=f"2026-11-{day}T10:00:00+01:00"))
    post(client, tenant, order_with(number="4", customer={"email": "ander@example.nl"}))
    customer_id = post(client, tenant, ORDER).json()["customer_id"]

    first = client.get(f"/api/v1/orders?customer_id={customer_id}&limit=2", headers=tenant.headers).json()
    rest = client.get(f"/api/v1/orders?customer_id={customer_id}&limit=2&cursor={first['next_cursor']}",
                      headers=tenant.headers).json()
    by_number = client.get("/api/v1/orders?number=%2310023", headers=tenant.headers).json()

    assert [order["number"] for order in first["items"] + rest["items"]] == ["10023", "2", "3", "1"]
    assert rest["next_cursor"] is None
    assert [order["number"] for order in by_number["items"]] == ["10023"]


@pytest.mark.parametrize(("change", "field"), [
    ({"currency": "EUX"}, "currency"),
    ({"total": "-1.00"}, "total"),
    ({"total": "12.345"}, "total"),
    ({"total": "twaalf"}, "total"),
    ({"total": "NaN"}, "total"),
    ({"lines": [{"name": "Kabel", "quantity": -2, "price": "1.00"}]}, "lines[0].quantity"),
    ({"lines": [{"name": "Kabel", "quantity": 1, "price": "-1.00"}]}, "lines[0].price"),
    ({"lines": [{"name": "", "quantity": 1, "price": "1.00"}]}, "lines[0].name"),
    ({"number": "  "}, "number"),
    ({"number": "10\x0023"}, "number"),
    ({"customer": {"email": "geen-adres"}}, "customer.email"),
    ({"status": "lost"}, "status"),
    ({"promised_delivery_window": {"start": "2026-11-24T18:00:00+01:00", "end": "2026-11-24T17:00:00+01:00"}},
     "promised_delivery_window"),
])
def test_a_wrong_field_is_refused_by_name_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], change: dict[str, Any], field: str
) -> None:
    response = post(client, tenant, order_with(**change))

    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(f"{field}:")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize("body", [
    order_with(placed_at="2026-11-23T21:40:00"),  # no zone
    order_with(lines=[{"name": "x", "quantity": 1, "price": "1"}] * 501),
    order_with(number="1" * 65),
    order_with(extra="field"),
    {"number": "1"},
])
def test_malformed_and_oversized_orders_get_a_validation_error(client: TestClient, tenant: Tenant,
                                                               body: dict[str, Any]) -> None:
    response = post(client, tenant, body)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


def test_hostile_text_is_stored_as_text(client: TestClient, tenant: Tenant) -> None:
    name = "<script>alert(1)</script> Robert'); DROP TABLE commerce_order;--"
    response = post(client, tenant, order_with(lines=[{"name": name, "quantity": 1, "price": "1.00"}], total="1.00"))

    assert response.status_code == 201
    assert client.get(f"/api/v1/orders/{response.json()['id']}", headers=tenant.headers).json()["lines"][0][
        "name"] == name


def test_a_shop_sees_only_its_own_orders(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    order = post(client, tenant, ORDER).json()
    theirs = post(client, other_tenant, ORDER)

    assert theirs.status_code == 201 and theirs.json()["id"] != order["id"]
    assert client.get(f"/api/v1/orders/{order['id']}", headers=other_tenant.headers).status_code == 404
    assert client.get("/api/v1/orders/99999999999999999999", headers=tenant.headers).status_code in (404, 422)
    assert client.post("/api/v1/orders", json=ORDER).status_code == 401
