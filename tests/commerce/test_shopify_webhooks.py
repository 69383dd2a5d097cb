"""POST /webhooks/shopify/{shop_public_key}: Shopify's orders and fulfillments become Balie's
orders, parcels and scans; wrong signatures, repeats, stale updates and bad bodies change
nothing."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shopify_support import SECRET, connect, deliver, fixture_order, fulfillment, order, sign
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tracking_support import Sender

from balie.commerce.models import Order, Shipment, TrackingEvent, WebhookDelivery
from balie.commerce.shopify import webhook
from balie.config import Settings
from factories import Tenant, make_tenant
from row_locks import second_waits_for_first
from statements import counting


@pytest.fixture
def key(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> str:
    return connect(client, tenant, factory)


def orders_of(client: TestClient, tenant: Tenant, number: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/orders", params={"number": number}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def counts(factory: sessionmaker[Session]) -> tuple[int, int, int, int]:
    with factory() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                     for model in (Order, Shipment, TrackingEvent, WebhookDelivery))


def test_the_corpus_order_arrives_as_an_order(client: TestClient, tenant: Tenant, key: str) -> None:
    response = deliver(client, key, "orders/create", fixture_order())

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"
    [stored] = orders_of(client, tenant, "1001")
    assert stored["number"] == "1001" and stored["source"] == "shopify" and stored["external_id"] == "450789469"
    assert (stored["total"], stored["currency"], stored["payment_status"]) == ("409.94", "USD", "authorized")
    assert stored["placed_at"].startswith("2008-01-10T16:00:00")
    assert [(line["sku"], line["name"], line["quantity"], line["price"]) for line in stored["lines"]] == [
        ("IPOD2008GREEN", "IPod Nano - 8gb - green", 1, "199.00"),
        ("IPOD2008RED", "IPod Nano - 8gb - red", 1, "199.00"),
        ("IPOD2008BLACK", "IPod Nano - 8gb - black", 1, "199.00")]
    assert stored["status"] == "open" and stored["promise"]["date"] is None
    # Its fulfillment had a tracking number but no company and no shipment status: a parcel, no scan.
    assert [(parcel["carrier"], parcel["tracking_code"], parcel["events"]) for parcel in stored["shipments"]] == [
        ("unknown", "1Z2345", [])]
    customer = client.get(f"/api/v1/customers/{stored['customer_id']}", headers=tenant.headers).json()
    assert customer["name"] == "Bob Norman"
    assert {(identity["kind"], identity["value"]) for identity in customer["identities"]} >= {
        ("email", "bob.norman@hostmail.com"), ("external", "207119551")}


def test_a_dutch_order_with_a_promise_in_its_note_attributes(client: TestClient, tenant: Tenant, key: str) -> None:
    deliver(client, key, "orders/create", order(note_attributes=[{"name": "Bezorgdatum", "value": "25-11-2026"}]))
    deliver(client, key, "orders/create", order(id=5201100003, name="#1003",
                                                 note_attributes=[{"name": "delivery_date", "value": "2026-11-26"}]))
    deliver(client, key, "orders/create", order(id=5201100004, name="#1004",
                                                 note_attributes=[{"name": "Bezorgdatum", "value": "morgen"}]))

    assert orders_of(client, tenant, "1002")[0]["promise"]["date"] == "2026-11-25"
    assert orders_of(client, tenant, "1003")[0]["promise"]["date"] == "2026-11-26"
    assert orders_of(client, tenant, "#1004")[0]["promise"]["date"] is None  # not a date: kept without a promise


@pytest.mark.parametrize("case", ["missing", "wrong", "other_shop", "unknown_shop", "not_connected"])
def test_a_wrong_signature_is_refused_logged_and_changes_nothing(
        case: str, client: TestClient, tenant: Tenant, other_tenant: Tenant, factory: sessionmaker[Session],
        key: str, caplog: pytest.LogCaptureFixture) -> None:
    other_key = connect(client, other_tenant, factory, secret="shpss_other_shop_secret_0000")
    target, secret, signature = key, SECRET, None
    if case == "missing":
        secret = None
    elif case == "wrong":
        signature = "bm90IHRoZSByaWdodCBzaWduYXR1cmU="
    elif case == "other_shop":
        target = other_key  # signed with this shop's secret, sent to the other shop's address
    elif case == "unknown_shop":
        target = "no-such-shop"
    else:
        client.delete("/api/v1/commerce/connections/shopify", headers=tenant.headers)

    with caplog.at_level(logging.WARNING):
        response = deliver(client, target, "orders/create", order(), secret=secret, signature=signature)

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_signature"
    assert counts(factory) == (0, 0, 0, 0)
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any(repr(target) in message and "'orders/create'" in message for message in warnings)
    assert not any(SECRET in message for message in caplog.messages)


def test_a_signature_over_other_bytes_is_refused(client: TestClient, key: str, factory: sessionmaker[Session]) -> None:
    body = json.dumps(order()).encode()
    response = deliver(client, key, "orders/create", None, raw=body + b" ", signature=sign(body))

    assert response.status_code == 401 and counts(factory) == (0, 0, 0, 0)


def test_a_replayed_delivery_changes_nothing(client: TestClient, tenant: Tenant, key: str) -> None:
    first = deliver(client, key, "orders/create", order(), webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    before = orders_of(client, tenant, "1002")[0]
    # The same delivery id again, even with another body, is the same delivery.
    again = deliver(client, key, "orders/updated", order(total_price="1.00", updated_at="2026-11-24T09:00:00+01:00"),
                    webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")

    assert first.json()["status"] == "applied"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert orders_of(client, tenant, "1002")[0] == before


def test_an_older_update_never_overwrites_a_newer_one(client: TestClient, tenant: Tenant, key: str) -> None:
    deliver(client, key, "orders/create", order())
    deliver(client, key, "orders/updated", order(total_price="899.00", updated_at="2026-11-24T09:00:00+01:00",
                                                 line_items=order()["line_items"][:1]))
    late = deliver(client, key, "orders/updated", order(total_price="5.00", updated_at="2026-11-24T08:00:00+01:00"))

    assert late.status_code == 200
    [stored] = orders_of(client, tenant, "1002")
    assert stored["total"] == "899.00" and len(stored["lines"]) == 1


def test_a_cancelled_order_is_cancelled(client: TestClient, tenant: Tenant, key: str) -> None:
    deliver(client, key, "orders/create", order())
    deliver(client, key, "orders/cancelled", order(cancelled_at="2026-11-24T09:00:00+01:00", financial_status="voided",
                                                   updated_at="2026-11-24T09:00:01+01:00"))

    [stored] = orders_of(client, tenant, "1002")
    assert (stored["status"], stored["payment_status"]) == ("cancelled", "voided")


def test_a_fulfilled_order_stays_open_and_an_archived_one_is_completed(client: TestClient, tenant: Tenant,
                                                                         key: str) -> None:
    deliver(client, key, "orders/updated", order(fulfillment_status="fulfilled"))
    fulfilled = orders_of(client, tenant, "1002")[0]["status"]
    deliver(client, key, "orders/updated", order(fulfillment_status="fulfilled", closed_at="2026-11-30T10:00:00Z",
                                                 updated_at="2026-11-30T10:00:00Z"))

    assert fulfilled == "open"
    assert orders_of(client, tenant, "1002")[0]["status"] == "completed"


def test_a_fulfillment_before_its_order_is_kept_and_linked(client: TestClient, tenant: Tenant, key: str,
                                                            factory: sessionmaker[Session],
                                                            frozen_clock: object) -> None:
    early = deliver(client, key, "fulfillments/create", fulfillment())
    with factory() as session:
        parcel = session.scalars(select(Shipment)).one()
        waiting = (parcel.order_id, parcel.order_number, parcel.status)

    deliver(client, key, "orders/create", order())

    assert early.status_code == 200, early.text
    assert waiting == (None, "1002", "in_transit")
    [stored] = orders_of(client, tenant, "1002")
    assert stored["delivery_status"] == "in_transit"
    [shipment] = stored["shipments"]
    assert (shipment["carrier"], shipment["tracking_code"], shipment["tracking_url"]) == (
        "PostNL", "3SABCD1234567", "https://jouw.postnl.nl/track-and-trace/3SABCD1234567")
    assert [(event["status"], event["raw_status"], event["source"]) for event in shipment["events"]] == [
        ("in_transit", "in_transit", "shopify")]


def test_fulfillment_updates_move_the_parcel_and_deliver_the_order(client: TestClient, tenant: Tenant, key: str,
                                                                     frozen_clock: object) -> None:
    deliver(client, key, "orders/create", order())
    deliver(client, key, "fulfillments/create", fulfillment(shipment_status="label_printed",
                                                            updated_at="2026-11-23T22:00:00+01:00"))
    deliver(client, key, "fulfillments/update", fulfillment(shipment_status="attempted_delivery",
                                                            updated_at="2026-11-24T09:30:00+01:00"))
    # Shopify's name for the order ("#1002.1") is not needed when Shopify's order id is known.
    deliver(client, key, "fulfillments/update", fulfillment(name=None, shipment_status="delivered",
                                                            updated_at="2026-11-24T10:30:00+01:00"))
    # An older update arriving last adds its scan but does not move the status back.
    deliver(client, key, "fulfillments/update", fulfillment(shipment_status="out_for_delivery",
                                                            updated_at="2026-11-24T08:30:00+01:00"))

    [stored] = orders_of(client, tenant, "1002")
    [shipment] = stored["shipments"]
    assert [event["status"] for event in shipment["events"]] == [
        "info_received", "out_for_delivery", "delivery_failed", "delivered"]
    assert shipment["status"] == "delivered" and stored["delivery_status"] == "delivered"
    assert stored["delivered_at"].startswith("2026-11-24T09:30:00")


def test_a_fulfillment_with_several_tracking_numbers_is_several_parcels(client: TestClient, tenant: Tenant,
                                                                        key: str, frozen_clock: object) -> None:
    deliver(client, key, "orders/create", order())
    deliver(client, key, "fulfillments/create", fulfillment(
        tracking_company="DHL Parcel", tracking_number="JVGL0001", tracking_numbers=["JVGL0001", "JVGL0002"],
        tracking_urls=["https://my.dhlparcel.nl/JVGL0001", "https://my.dhlparcel.nl/JVGL0002"],
        shipment_status="confirmed"))

    shipments = orders_of(client, tenant, "1002")[0]["shipments"]
    assert [(s["carrier"], s["tracking_code"], s["tracking_url"], s["status"]) for s in shipments] == [
        ("DHL Parcel", "JVGL0001", "https://my.dhlparcel.nl/JVGL0001", "info_received"),
        ("DHL Parcel", "JVGL0002", "https://my.dhlparcel.nl/JVGL0002", "info_received")]


def test_an_unknown_topic_is_answered_and_ignored(client: TestClient, key: str, factory: sessionmaker[Session],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        response = deliver(client, key, "products/update", {"id": 1, "title": "Laptop"})

    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert counts(factory) == (0, 0, 0, 0)
    assert any("products/update" in message for message in caplog.messages)


@pytest.mark.parametrize(("change", "field"), [
    ({"total_price": None}, "total_price: required"),
    ({"currency": "EUX"}, "currency: 'EUX' is not an ISO 4217"),
    ({"id": None}, "id: required"),
    ({"created_at": "gisteren"}, "created_at: 'gisteren' is not a date"),
    ({"created_at": "2026-11-23T21:40:00"}, "created_at: give a time zone"),
    ({"name": None, "order_number": None}, "name: required"),
    ({"line_items": [{"title": "Laptop", "quantity": -2, "price": "1.00"}]},
     "line_items[0].quantity: must be at least 1"),
    ({"line_items": [{"title": "Laptop", "quantity": 1}]}, "line_items[0].price: required"),
    ({"line_items": [{"quantity": 1, "price": "1.00"}]}, "line_items[0].title: required"),
    ({"line_items": "laptop"}, "line_items: expected a list"),
    ({"total_price": "12.345"}, "total_price: more than two decimals"),
    ({"customer": "Jan"}, "customer: expected an object"),
    ({"line_items": [{"title": "Laptop", "quantity": 2**70, "price": "1.00"}]}, "line_items[0].quantity: larger"),
    ({"created_at": "9999-12-31T23:59:59-14:00"}, "created_at: 9999-12-31"),
    ({"total_price": "1e400"}, "total_price: larger than"),
    ({"total_price": "NaN"}, "total_price: not a finite amount"),
    ({"updated_at": 20261124}, "updated_at: expected a date and time"),
])
def test_a_payload_that_cannot_be_applied_names_the_field_and_stores_nothing(
        change: dict[str, Any], field: str, client: TestClient, key: str, factory: sessionmaker[Session]) -> None:
    response = deliver(client, key, "orders/create", order(**change))

    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(field), response.json()
    assert counts(factory) == (0, 0, 0, 0)


def test_a_fulfillment_without_an_order_reference_names_the_field(client: TestClient, key: str,
                                                                   factory: sessionmaker[Session],
                                                                   frozen_clock: object) -> None:
    response = deliver(client, key, "fulfillments/create", fulfillment(order_id=None, name=None))
    unknown = deliver(client, key, "fulfillments/create", fulfillment(name=None, order_id=999))

    many = deliver(client, key, "fulfillments/create", fulfillment(tracking_numbers=[f"C{i}" for i in range(101)]))

    long_code = deliver(client, key, "fulfillments/create", fulfillment(tracking_numbers=["C" * 129]))
    future = deliver(client, key, "fulfillments/create", fulfillment(updated_at="2036-11-24T08:00:00+01:00"))

    assert many.status_code == 400 and many.json()["detail"] == "tracking_numbers: at most 100"
    assert long_code.status_code == 400 and long_code.json()["detail"] == "tracking_numbers: longer than 128 characters"
    assert future.status_code == 400 and future.json()["detail"].startswith("updated_at: 2036-11-24T07:00:00")
    assert response.status_code == 400 and response.json()["detail"].startswith("order_id: required")
    assert unknown.status_code == 400 and unknown.json()["detail"].startswith("name: required")
    assert counts(factory) == (0, 0, 0, 0)


@pytest.mark.parametrize("raw", [
    b"{not json", b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000, b'{"id": ' + b"9" * 5000 + b"}", b"[1, 2]", b"",
])
def test_hostile_bodies_are_refused_cleanly(raw: bytes, client: TestClient, key: str,
                                            factory: sessionmaker[Session]) -> None:
    response = deliver(client, key, "orders/create", None, raw=raw)

    assert response.status_code == 400, response.text
    assert response.json()["error"] in ("invalid_json", "invalid_field")
    assert counts(factory) == (0, 0, 0, 0)


def test_hostile_text_is_refused_or_kept_as_text(client: TestClient, tenant: Tenant, key: str,
                                                 factory: sessionmaker[Session]) -> None:
    control = deliver(client, key, "orders/create", order(line_items=[
        {"title": "Laptop\u0000", "quantity": 1, "price": "1.00"}]))
    script = deliver(client, key, "orders/create", order(line_items=[
        {"title": "<script>alert(1)</script>", "sku": "' OR 1=1 --", "quantity": 1, "price": "1.00"}],
        name="#1002<img src=x>", customer={"id": 7301, "email": "not an address", "phone": "bel me"}))
    header = deliver(client, key, "orders/create", order(), webhook_id="id\u0007bell")

    assert control.status_code == 400 and control.json()["detail"].startswith("line_items[0].name")
    assert script.status_code == 200, script.text
    [stored] = orders_of(client, tenant, "1002<img src=x>")
    assert stored["lines"][0]["name"] == "<script>alert(1)</script>" and stored["lines"][0]["sku"] == "' OR 1=1 --"
    customer = client.get(f"/api/v1/customers/{stored['customer_id']}", headers=tenant.headers).json()
    # An address and a number that do not parse are left out, not refused.
    assert [(identity["kind"], identity["value"]) for identity in customer["identities"]] == [("external", "7301")]
    assert header.status_code == 400 and header.json()["detail"].startswith("X-Shopify-Webhook-Id")


def test_a_delivery_without_its_id_is_refused(client: TestClient, key: str, factory: sessionmaker[Session]) -> None:
    body = json.dumps(order()).encode()
    response = client.post(f"/webhooks/shopify/{key}", content=body, headers={
        "X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-SHA256": sign(body)})

    assert response.status_code == 400 and response.json()["detail"] == "X-Shopify-Webhook-Id: required"
    assert counts(factory) == (0, 0, 0, 0)


def test_an_oversized_body_is_refused_before_anything_is_read(client: TestClient, key: str,
                                                               factory: sessionmaker[Session]) -> None:
    big = order(note="x" * (2 * 1024 * 1024))

    response = deliver(client, key, "orders/create", big)

    assert response.status_code == 413
    assert counts(factory) == (0, 0, 0, 0)


def test_a_large_order_within_the_limit_is_taken(client: TestClient, tenant: Tenant, key: str) -> None:
    lines = [{"title": f"Schroef {index}", "sku": f"S-{index}", "quantity": 1, "price": "0.10",
              "properties": [{"name": "kleur", "value": "grijs" * 40}]} for index in range(450)]

    response = deliver(client, key, "orders/create", order(line_items=lines, total_price="45.00"))

    assert response.status_code == 200, response.text
    assert len(orders_of(client, tenant, "1002")[0]["lines"]) == 450


def test_the_shopify_limit_holds_when_the_install_allows_larger_bodies(settings: Settings) -> None:
    from balie.app import create_app

    roomy = create_app(replace(settings, max_request_bytes=8 * 1024 * 1024), run_worker=False)
    try:
        with TestClient(roomy) as client:
            tenant = make_tenant(roomy.state.context.factory)
            key = connect(client, tenant, roomy.state.context.factory)
            response = deliver(client, key, "orders/create", order(note="x" * (3 * 1024 * 1024)))
            counted = counts(roomy.state.context.factory)
    finally:
        roomy.state.context.engine.dispose()

    assert response.status_code == 413 and response.json()["error"] == "request_too_large"
    assert counted == (0, 0, 0, 0)


def test_a_repeat_and_a_scan_cost_a_fixed_number_of_statements(client: TestClient, key: str,
                                                                factory: sessionmaker[Session],
                                                                frozen_clock: object) -> None:
    deliver(client, key, "orders/create", order())
    deliver(client, key, "fulfillments/create", fulfillment(), webhook_id="first-scan")
    with counting(factory) as statements:
        deliver(client, key, "fulfillments/create", fulfillment(), webhook_id="first-scan")
        repeat = [statement.split("\n")[0][:80] for statement in statements]
        statements.clear()
        deliver(client, key, "fulfillments/update", fulfillment(shipment_status="out_for_delivery",
                                                                updated_at="2026-11-24T09:00:00+01:00"))
        scan = [statement.split("\n")[0][:80] for statement in statements]

    assert len(repeat) <= 2, repeat  # the shop and its connection; the delivery id
    assert len(scan) <= 14, scan  # most of them the core's: the parcel, the order, the scan, the status


# --- a parcel whose carrier Shopify did not know at first ------------------------------

def without_carrier(**changes: Any) -> dict[str, Any]:
    """The fulfillment as Shopify sends it when the merchant gave a tracking number and no
    carrier: no tracking_company, and no link Shopify could make."""
    return fulfillment(tracking_company=None, tracking_url=None, tracking_urls=[], **changes)


def parcels_seen(client: TestClient, tenant: Tenant, number: str = "1002") -> list[tuple[str, str, list[str]]]:
    return [(parcel["carrier"], parcel["tracking_code"], [event["status"] for event in parcel["events"]])
            for parcel in orders_of(client, tenant, number)[0]["shipments"]]


@pytest.mark.parametrize("route", ["fulfillments/update", "orders/updated"])
def test_a_carrier_added_later_names_the_parcel_and_keeps_its_scans(route: str, client: TestClient,
                                                                     tenant: Tenant, key: str,
                                                                     frozen_clock: object) -> None:
    """Merchants often add the carrier after creating the fulfillment. Shopify then sends the
    same fulfillment with tracking_company filled in, on its own and inside the order."""
    first = without_carrier(shipment_status="confirmed", updated_at="2026-11-23T22:00:00+01:00")
    named = fulfillment(shipment_status="in_transit", updated_at="2026-11-24T08:00:00+01:00")
    deliver(client, key, "orders/create", order(fulfillments=[first]))
    unnamed = parcels_seen(client, tenant)

    if route == "orders/updated":
        response = deliver(client, key, route, order(fulfillments=[named], updated_at="2026-11-24T08:00:05+01:00"))
    else:
        response = deliver(client, key, route, named)

    assert response.status_code == 200, response.text
    assert unnamed == [("unknown", "3SABCD1234567", ["info_received"])]
    [stored] = orders_of(client, tenant, "1002")
    [parcel] = stored["shipments"]
    assert (parcel["carrier"], parcel["tracking_code"], parcel["tracking_url"]) == (
        "PostNL", "3SABCD1234567", "https://jouw.postnl.nl/track-and-trace/3SABCD1234567")
    assert [event["status"] for event in parcel["events"]] == ["info_received", "in_transit"]
    assert parcel["status"] == "in_transit" and stored["delivery_status"] == "in_transit"


def test_a_carrier_added_before_the_order_arrives_is_still_one_parcel(client: TestClient, tenant: Tenant,
                                                                      key: str, frozen_clock: object) -> None:
    deliver(client, key, "fulfillments/create", without_carrier(shipment_status="confirmed",
                                                                updated_at="2026-11-23T22:00:00+01:00"))
    deliver(client, key, "fulfillments/update", fulfillment(shipment_status="in_transit"))
    deliver(client, key, "orders/create", order())

    assert parcels_seen(client, tenant) == [("PostNL", "3SABCD1234567", ["info_received", "in_transit"])]


def test_an_update_without_the_carrier_makes_no_unknown_twin(client: TestClient, tenant: Tenant, key: str,
                                                             frozen_clock: object) -> None:
    deliver(client, key, "orders/create", order())
    deliver(client, key, "fulfillments/create", fulfillment(shipment_status="in_transit"))
    # An app or a later edit sends the fulfillment again without its carrier.
    deliver(client, key, "fulfillments/update", without_carrier(shipment_status="delivered",
                                                                updated_at="2026-11-24T10:30:00+01:00"))

    [stored] = orders_of(client, tenant, "1002")
    [parcel] = stored["shipments"]
    assert (parcel["carrier"], parcel["tracking_url"]) == (
        "PostNL", "https://jouw.postnl.nl/track-and-trace/3SABCD1234567")
    assert [event["status"] for event in parcel["events"]] == ["in_transit", "delivered"]
    assert stored["delivery_status"] == "delivered" and stored["delivered_at"].startswith("2026-11-24T09:30:00")


def test_a_carriers_own_scans_name_the_parcel_shopify_left_without_one(client: TestClient, tenant: Tenant,
                                                                        key: str, factory: sessionmaker[Session],
                                                                        frozen_clock: object) -> None:
    deliver(client, key, "orders/create", order(fulfillments=[without_carrier(shipment_status="confirmed")]))
    response = Sender(client, tenant, factory).send({
        "carrier": "PostNL", "tracking_code": "3SABCD1234567", "order_number": "1002",
        "events": [{"status": "out_for_delivery", "occurred_at": "2026-11-24T09:00:00+01:00"}]})

    assert response.status_code == 200, response.text
    assert response.json()["shipment_created"] is False
    assert parcels_seen(client, tenant) == [("PostNL", "3SABCD1234567", ["info_received", "out_for_delivery"])]


def test_the_same_code_in_another_order_is_another_parcel(client: TestClient, tenant: Tenant, key: str,
                                                          frozen_clock: object) -> None:
    """Only within one order is a tracking code without a carrier taken for a named one: codes
    of different carriers may look alike."""
    deliver(client, key, "orders/create", order())
    deliver(client, key, "orders/create", order(id=5201100003, name="#1003"))
    deliver(client, key, "fulfillments/create", without_carrier(tracking_numbers=["1Z2345"]))
    deliver(client, key, "fulfillments/create", fulfillment(id=4100002, order_id=5201100003, name="#1003.1",
                                                            tracking_company="UPS", tracking_numbers=["1Z2345"]))

    assert parcels_seen(client, tenant, "1002") == [("unknown", "1Z2345", ["in_transit"])]
    assert parcels_seen(client, tenant, "1003") == [("UPS", "1Z2345", ["in_transit"])]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_parcel_reported_without_and_with_its_carrier_at_once_is_one_parcel(
        client: TestClient, tenant: Tenant, key: str, factory: sessionmaker[Session], frozen_clock: object) -> None:
    """Shopify sends fulfillments/create and the order's update within moments. The second
    transaction must wait for the first to decide whether the parcel exists: read before
    the first commits, each would create its own parcel under its own carrier."""
    deliver(client, key, "orders/create", order())
    second_waits_for_first(
        factory,
        lambda session: webhook.apply(session, tenant.shop_id, "fulfillments/create", "first", without_carrier(
            shipment_status="confirmed", updated_at="2026-11-23T22:00:00+01:00")),
        lambda session: webhook.apply(session, tenant.shop_id, "fulfillments/update", "second", fulfillment()))
    assert parcels_seen(client, tenant) == [("PostNL", "3SABCD1234567", ["info_received", "in_transit"])]
