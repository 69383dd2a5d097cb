"""Shopify's fulfillment event statuses map onto Balie's tracking statuses; a status Shopify
adds later keeps the parcel without a scan."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from shopify_support import connect, deliver, fulfillment, order
from sqlalchemy.orm import Session, sessionmaker

from balie.commerce.models import TRACKING_STATUSES
from balie.commerce.shopify import statuses
from factories import Tenant

# Shopify's FulfillmentEventStatus values (Admin API), as webhooks spell them.
DOCUMENTED = ("attempted_delivery", "carrier_picked_up", "confirmed", "delayed", "delivered", "failure",
              "in_transit", "label_printed", "label_purchased", "out_for_delivery", "picked_up", "ready_for_pickup")


@pytest.mark.parametrize(("shopify", "balie"), [
    ("confirmed", "info_received"), ("label_purchased", "info_received"), ("label_printed", "info_received"),
    ("carrier_picked_up", "in_transit"), ("in_transit", "in_transit"), ("out_for_delivery", "out_for_delivery"),
    ("attempted_delivery", "delivery_failed"), ("ready_for_pickup", "available_for_pickup"),
    ("picked_up", "delivered"), ("delivered", "delivered"), ("delayed", "exception"), ("failure", "exception"),
    ("RETURNING_TO_SENDER", "returned_to_sender"), ("label_voided", None), ("teleported", None),
])
def test_the_mapping(shopify: str, balie: str | None) -> None:
    assert statuses.normalised(shopify) == balie


def test_every_documented_status_has_a_balie_status() -> None:
    assert all(statuses.normalised(status) in TRACKING_STATUSES for status in DOCUMENTED)


def test_a_status_balie_does_not_know_keeps_the_parcel_without_a_scan(
        client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: object) -> None:
    key = connect(client, tenant, factory)
    deliver(client, key, "orders/create", order())

    response = deliver(client, key, "fulfillments/create", fulfillment(
        shipment_status="teleported", tracking_numbers=["3S ABCD 1234"], tracking_urls=["javascript:alert(1)"]))

    assert response.status_code == 200, response.text
    [stored] = client.get("/api/v1/orders", params={"number": "1002"}, headers=tenant.headers).json()["items"]
    [parcel] = stored["shipments"]
    assert (parcel["tracking_code"], parcel["tracking_url"], parcel["status"], parcel["events"]) == (
        "3SABCD1234", None, None, [])
