"""POST /api/v1/shipments and /api/v1/shipments/{id}/events: parcels before their order,
scans out of order and twice, and what it does with malformed, hostile and foreign input."""

from __future__ import annotations

from typing import Any

import pytest
from commerce_support import ORDER, post
from fastapi.testclient import TestClient

from balie import clock
from factories import Tenant

PARCEL = {"order_number": "10023", "carrier": "PostNL", "tracking_code": "3SABCD1234567",
          "tracking_url": "https://jouw.postnl.nl/track-and-trace/3SABCD1234567-NL-1234AB"}


def ship(client: TestClient, tenant: Tenant, body: dict[str, Any] | None = None) -> Any:
    return client.post("/api/v1/shipments", json=body or PARCEL, headers=tenant.headers)


def scan(client: TestClient, tenant: Tenant, shipment_id: object, status: str, at: str) -> Any:
    return client.post(f"/api/v1/shipments/{shipment_id}/events", json={"status": status, "occurred_at": at},
                       headers=tenant.headers)


@pytest.fixture(autouse=True)
def _now(frozen_clock: clock.FrozenClock) -> None:
    """The scans below happened on 24 and 25 November 2026; "now" is after them."""
    frozen_clock.current = frozen_clock.current.replace(day=26)


def test_a_parcel_that_comes_before_its_order_is_linked_when_the_order_arrives(client: TestClient,
                                                                                tenant: Tenant) -> None:
    parcel = ship(client, tenant)
    scan(client, tenant, parcel.json()["id"], "in_transit", "2026-11-24T08:00:00+01:00")
    order = post(client, tenant, ORDER).json()

    assert parcel.status_code == 201 and parcel.json()["order_id"] is None
    assert [shipment["tracking_code"] for shipment in order["shipments"]] == ["3SABCD1234567"]
    assert order["delivery_status"] == "in_transit"
    assert ship(client, tenant).status_code == 200  # the same parcel again


def test_scans_out_of_order_and_twice_leave_the_newest_status(client: TestClient, tenant: Tenant) -> None:
    order_id = post(client, tenant, ORDER).json()["id"]
    shipment_id = ship(client, tenant).json()["id"]

    first = scan(client, tenant, shipment_id, "delivered", "2026-11-25T14:02:00+01:00")
    late = scan(client, tenant, shipment_id, "in_transit", "2026-11-24T22:10:00+01:00")
    again = scan(client, tenant, shipment_id, "delivered", "2026-11-25T14:02:00+01:00")

    assert (first.status_code, late.status_code, again.status_code) == (201, 201, 200)
    parcel = again.json()
    assert parcel["status"] == "delivered" and parcel["delivered_at"].startswith("2026-11-25T13:02:00")
    assert [event["status"] for event in parcel["events"]] == ["in_transit", "delivered"]
    order = client.get(f"/api/v1/orders/{order_id}", headers=tenant.headers).json()
    assert order["delivery_status"] == "delivered" and order["delivered_at"] == parcel["delivered_at"]


def test_an_order_is_delivered_only_when_its_last_parcel_is(client: TestClient, tenant: Tenant) -> None:
    order_id = post(client, tenant, ORDER).json()["id"]
    first = ship(client, tenant).json()["id"]
    second = ship(client, tenant, {**PARCEL, "tracking_code": "3SABCD7654321"}).json()["id"]
    scan(client, tenant, first, "delivered", "2026-11-25T10:00:00+01:00")
    partly = client.get(f"/api/v1/orders/{order_id}", headers=tenant.headers).json()
    scan(client, tenant, second, "delivered", "2026-11-25T15:00:00+01:00")
    whole = client.get(f"/api/v1/orders/{order_id}", headers=tenant.headers).json()

    assert partly["delivered_at"] is None
    assert whole["delivered_at"].startswith("2026-11-25T14:00:00")


def test_a_parcel_with_an_unknown_carrier_and_the_named_one_of_its_order_are_one(client: TestClient,
                                                                                    tenant: Tenant) -> None:
    order_id = post(client, tenant, ORDER).json()["id"]
    unnamed = ship(client, tenant, {**PARCEL, "carrier": "unknown", "tracking_url": None}).json()
    scan(client, tenant, unnamed["id"], "info_received", "2026-11-24T08:00:00+01:00")
    named = ship(client, tenant)
    scan(client, tenant, unnamed["id"], "in_transit", "2026-11-24T12:00:00+01:00")
    again = ship(client, tenant, {**PARCEL, "carrier": "unknown", "tracking_url": None})

    assert (named.status_code, again.status_code) == (200, 200)
    assert named.json()["id"] == again.json()["id"] == unnamed["id"]
    order = client.get(f"/api/v1/orders/{order_id}", headers=tenant.headers).json()
    [parcel] = order["shipments"]
    assert (parcel["carrier"], parcel["tracking_url"]) == ("PostNL", PARCEL["tracking_url"])
    assert [event["status"] for event in parcel["events"]] == ["info_received", "in_transit"]


@pytest.mark.parametrize(("status", "at", "expected"), [
    ("lost_in_space", "2026-11-24T08:00:00+01:00", "status:"),
    ("delivered", "2026-12-30T08:00:00+01:00", "occurred_at:"),
])
def test_a_wrong_scan_is_refused_by_name(client: TestClient, tenant: Tenant, status: str, at: str,
                                         expected: str) -> None:
    shipment_id = ship(client, tenant).json()["id"]
    response = scan(client, tenant, shipment_id, status, at)

    assert response.status_code == 400 and response.json()["detail"].startswith(expected), response.text
    assert client.get(f"/api/v1/shipments/{shipment_id}", headers=tenant.headers).json()["events"] == []


@pytest.mark.parametrize(("change", "field"), [
    ({"tracking_code": "3S ABCD"}, "tracking_code"),
    ({"tracking_url": "javascript:alert(1)"}, "tracking_url"),
    ({"carrier": "Post\nNL"}, "carrier"),
])
def test_a_wrong_shipment_is_refused_by_name(client: TestClient, tenant: Tenant, change: dict[str, str],
                                             field: str) -> None:
    response = ship(client, tenant, {**PARCEL, **change})

    assert response.status_code == 400 and response.json()["detail"].startswith(f"{field}:"), response.text


def test_a_shop_cannot_scan_another_shops_parcel(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    shipment_id = ship(client, tenant).json()["id"]

    assert scan(client, other_tenant, shipment_id, "delivered", "2026-11-25T14:02:00+01:00").status_code == 404
    assert client.get(f"/api/v1/shipments/{shipment_id}", headers=other_tenant.headers).status_code == 404
    assert scan(client, tenant, shipment_id, "delivered", "not a time").status_code == 422
