"""What a tracking delivery's scans do to a parcel Balie knows and to its order: the newest
scan decides whatever order they come in, a repeat counts once, an order is delivered when
its last parcel is. On PostgreSQL these take the short path (commerce/tracking_pg.py), on
SQLite the general one: the outcomes must be the same. Last, two parcels of one order
delivered in two transactions at once, on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from commerce_support import ORDER, order_with, post
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tracking_support import PARCEL, Sender

from balie import clock
from balie.commerce import tracking_webhook
from balie.commerce.models import Order, Shipment
from factories import Tenant
from row_locks import second_waits_for_first
from statements import counting

OTHER_PARCEL = "3SABCD7654321"


@pytest.fixture(autouse=True)
def _now(frozen_clock: clock.FrozenClock) -> None:
    frozen_clock.current = frozen_clock.current.replace(day=26)


@pytest.fixture
def sender(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> Sender:
    post(client, tenant, ORDER)
    sender = Sender(client, tenant, factory)
    assert sender.send(PARCEL).status_code == 200
    return sender


def scans(code: str, *events: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {"carrier": "PostNL", "tracking_code": code, **extra,
            "events": [{"status": status, "occurred_at": at, "description": status} for status, at in events]}


def the_order(client: TestClient, tenant: Tenant, number: str = "10023") -> Any:
    return client.get(f"/api/v1/orders?number={number}", headers=tenant.headers).json()["items"][0]


def test_the_newest_scan_decides_whatever_order_the_scans_come_in(sender: Sender, client: TestClient,
                                                                  tenant: Tenant) -> None:
    first = sender.send(scans(PARCEL["tracking_code"], ("out_for_delivery", "2026-11-25T07:30:00Z"),
                              ("delivered", "2026-11-25T13:02:00Z"), ("out_for_delivery", "2026-11-25T07:30:00Z")))
    late = sender.send(scans(PARCEL["tracking_code"], ("in_transit", "2026-11-25T05:00:00Z")))

    assert first.json()["events"] == {"added": 2, "known": 1, "ignored": 0}
    assert first.json()["status"] == "delivered"
    assert late.json()["events"]["added"] == 1 and late.json()["status"] == "delivered"
    order = the_order(client, tenant)
    assert (order["delivery_status"], order["delivered_at"][:19]) == ("delivered", "2026-11-25T13:02:00")
    assert [event["status"] for event in order["shipments"][0]["events"]] == [
        "in_transit", "in_transit", "out_for_delivery", "delivered"]  # oldest first; the first from the fixture


def test_scans_at_the_same_moment_the_later_in_the_delivery_wins(sender: Sender, client: TestClient,
                                                                 tenant: Tenant) -> None:
    response = sender.send(scans(PARCEL["tracking_code"], ("out_for_delivery", "2026-11-25T09:00:00Z"),
                                 ("delivery_failed", "2026-11-25T09:00:00Z")))

    assert response.json()["status"] == "delivery_failed"
    assert the_order(client, tenant)["delivery_status"] == "delivery_failed"


def test_a_repeated_delivery_changes_nothing_about_the_parcel(sender: Sender, client: TestClient,
                                                              tenant: Tenant) -> None:
    delivered = scans(PARCEL["tracking_code"], ("delivered", "2026-11-25T13:02:00Z"))
    sender.send(delivered)
    before = the_order(client, tenant)

    again = sender.send(delivered)

    assert again.json()["events"] == {"added": 0, "known": 1, "ignored": 0}
    assert the_order(client, tenant) == before


def test_an_order_with_two_parcels_is_delivered_when_its_last_parcel_is(sender: Sender, client: TestClient,
                                                                        tenant: Tenant) -> None:
    assert sender.send(scans(OTHER_PARCEL, ("in_transit", "2026-11-25T06:00:00Z"), order_number="10023")
                       ).status_code == 200

    sender.send(scans(PARCEL["tracking_code"], ("delivered", "2026-11-25T11:00:00Z")))
    one_of_two = the_order(client, tenant)
    sender.send(scans(OTHER_PARCEL, ("delivered", "2026-11-25T15:45:00Z")))
    both = the_order(client, tenant)

    assert (one_of_two["delivery_status"], one_of_two["delivered_at"]) == ("delivered", None)
    assert (both["delivery_status"], both["delivered_at"][:19]) == ("delivered", "2026-11-25T15:45:00")


def test_two_parcels_scanned_at_the_same_moment_give_the_order_the_newer_parcels_status(
        sender: Sender, client: TestClient, tenant: Tenant) -> None:
    sender.send(scans(OTHER_PARCEL, ("in_transit", "2026-11-25T06:00:00Z"), order_number="10023"))

    sender.send(scans(OTHER_PARCEL, ("delivery_failed", "2026-11-25T12:00:00Z")))
    sender.send(scans(PARCEL["tracking_code"], ("delivered", "2026-11-25T12:00:00Z")))

    assert the_order(client, tenant)["delivery_status"] == "delivery_failed"  # the parcel made last


def test_a_new_tracking_link_without_scans_is_kept(sender: Sender, client: TestClient, tenant: Tenant) -> None:
    url = "https://jouw.postnl.nl/track-and-trace/3SABCD1234567-NL-9999ZZ"
    response = sender.send({**scans(PARCEL["tracking_code"]), "tracking_url": url})

    assert response.status_code == 200 and response.json()["events"]["added"] == 0
    assert the_order(client, tenant)["shipments"][0]["tracking_url"] == url


def test_a_delivery_naming_another_order_moves_the_parcel_to_it(sender: Sender, client: TestClient,
                                                                tenant: Tenant) -> None:
    post(client, tenant, order_with(number="10024"))
    response = sender.send(scans(PARCEL["tracking_code"], ("delivered", "2026-11-25T13:02:00Z"),
                                 order_number="10024"))

    moved_to, left = the_order(client, tenant, "10024"), the_order(client, tenant)
    assert response.json()["order_id"] == moved_to["id"]
    assert moved_to["delivery_status"] == "delivered" and len(moved_to["shipments"]) == 1
    assert (left["delivery_status"], left["shipments"]) == (None, [])  # recounted without the parcel


def test_a_scan_for_a_known_parcel_is_few_statements_on_postgresql(sender: Sender, factory: sessionmaker[Session],
                                                                   database_url: str) -> None:
    """The benchmark's hot path (500 scans a second): one new scan for a known parcel, with a
    delivery id. On PostgreSQL: the shop's secret, the delivery id, the scans and the parcel,
    the order's lock and its recount."""
    with counting(factory) as statements:
        for hour, status in ((9, "out_for_delivery"), (10, "delivered")):
            statements.clear()
            response = sender.send(scans(PARCEL["tracking_code"], (status, f"2026-11-25T{hour:02d}:00:00Z")),
                                   headers={"X-Balie-Delivery": f"scan-{hour}"})
            assert response.json()["events"]["added"] == 1
    limit = 5 if database_url.startswith("postgresql") else 11
    assert len(statements) <= limit, [statement.strip().split("\n")[0][:80] for statement in statements]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_parcels_of_one_order_delivered_at_once_deliver_the_order(
        sender: Sender, client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    """Each transaction recounts the order from all its parcels. The second waits for the
    first's lock on the order and must then count the first's parcel as delivered: read
    before that wait, both would see the other parcel on its way and the order would never
    be delivered."""
    sender.send(scans(OTHER_PARCEL, ("in_transit", "2026-11-25T06:00:00Z"), order_number="10023"))
    payloads = [tracking_webhook.parse(
        (f'{{"carrier": "PostNL", "tracking_code": "{code}", "events": '
         f'[{{"status": "delivered", "occurred_at": "2026-11-25T1{hour}:00:00Z"}}]}}').encode())
        for code, hour in ((PARCEL["tracking_code"], 1), (OTHER_PARCEL, 2))]
    second_waits_for_first(factory, lambda session: tracking_webhook.apply(session, tenant.shop_id, payloads[0]),
                           lambda session: tracking_webhook.apply(session, tenant.shop_id, payloads[1]))
    with factory() as session:
        order = session.scalars(select(Order).where(Order.shop_id == tenant.shop_id)).one()
        parcels = session.scalars(select(Shipment.delivered_at).where(Shipment.order_id == order.id)).all()
    assert all(parcels) and len(parcels) == 2
    assert order.delivery_status == "delivered" and order.delivered_at == max(parcels)
