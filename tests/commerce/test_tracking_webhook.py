"""POST /webhooks/tracking/{shop_public_key}: a carrier or tracking service signs with the
shop's tracking secret like Balie signs its own webhooks; wrong, missing, stale and foreign
signatures change nothing; raw AfterShip and Sendcloud statuses are mapped; a parcel may come
before its order; repeats change nothing; bad payloads are named."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from commerce_support import ORDER, post
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tracking_support import PARCEL, Sender

from balie import clock, security
from balie.commerce.models import Shipment, TrackingEvent
from balie.shops.models import Shop
from factories import Tenant


@pytest.fixture(autouse=True)
def _now(frozen_clock: clock.FrozenClock) -> None:
    """The scans happened on 24 and 25 November 2026; "now" is the 26th."""
    frozen_clock.current = frozen_clock.current.replace(day=26)


@pytest.fixture
def sender(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> Sender:
    return Sender(client, tenant, factory)


def counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        return (session.scalar(select(func.count()).select_from(Shipment)) or 0,
                session.scalar(select(func.count()).select_from(TrackingEvent)) or 0)


def order_of(client: TestClient, tenant: Tenant) -> Any:
    items = client.get("/api/v1/orders?number=10023", headers=tenant.headers).json()["items"]
    return items[0] if items else None


def test_a_signed_delivery_adds_the_parcel_and_its_scans(sender: Sender, client: TestClient,
                                                         tenant: Tenant) -> None:
    post(client, tenant, ORDER)
    response = sender.send(PARCEL)

    assert response.status_code == 200, response.text
    assert response.json()["shipment_created"] is True and response.json()["events"]["added"] == 1
    order = order_of(client, tenant)
    assert order["delivery_status"] == "in_transit"
    parcel = order["shipments"][0]
    assert parcel["tracking_url"] == PARCEL["tracking_url"]
    assert [(event["status"], event["description"], event["source"]) for event in parcel["events"]] == [
        ("in_transit", "Sorteercentrum", "tracking")]


def test_events_before_the_order_are_kept_and_matched_when_it_arrives(sender: Sender, client: TestClient,
                                                                      tenant: Tenant) -> None:
    first = sender.send(PARCEL)
    later = sender.send({"carrier": "PostNL", "tracking_code": "3SABCD1234567",  # known parcel: no number needed
                         "events": [{"status": "delivered", "occurred_at": "2026-11-25T14:02:00+01:00"}]})
    assert first.json()["order_id"] is None and later.status_code == 200, later.text
    assert order_of(client, tenant) is None

    post(client, tenant, ORDER)
    order = order_of(client, tenant)
    assert order["delivery_status"] == "delivered"
    assert order["delivered_at"].startswith("2026-11-25T13:02:00")


def test_wrong_missing_stale_and_foreign_signatures_are_refused_and_logged(
        sender: Sender, client: TestClient, tenant: Tenant, other_tenant: Tenant, factory: sessionmaker[Session],
        caplog: pytest.LogCaptureFixture) -> None:
    other_secret = client.put("/api/v1/commerce/connections/tracking", json={},
                              headers=other_tenant.headers).json()["secret"]
    with factory() as session:
        other_key = session.get_one(Shop, other_tenant.shop_id).public_key
    body = json.dumps(PARCEL).encode()
    caplog.set_level(logging.WARNING, logger="balie.commerce.tracking_webhook_api")

    refused = {
        "wrong secret": sender.send(PARCEL, secret="not-the-shops-secret-at-all"),
        "other shop's secret": sender.send(PARCEL, secret=other_secret),
        "signed for another shop's URL": sender.send(PARCEL, key=other_key),
        "no signature": client.post(f"/webhooks/tracking/{sender.key}", content=body,
                                    headers={"X-Balie-Timestamp": str(int(clock.now().timestamp()))}),
        "no timestamp": client.post(f"/webhooks/tracking/{sender.key}", content=body,
                                    headers={"X-Balie-Signature": security.sign(sender.secret, body, "")}),
        "ten minutes old": sender.send(PARCEL, shift=-600),
        "ten minutes ahead": sender.send(PARCEL, shift=600),
        "far future": client.post(f"/webhooks/tracking/{sender.key}", content=body, headers={
            "X-Balie-Timestamp": "999999999999",
            "X-Balie-Signature": security.sign(sender.secret, body, "999999999999")}),
        "body changed after signing": sender.send(PARCEL, headers={
            "X-Balie-Signature": security.sign(sender.secret, body + b" ", str(int(clock.now().timestamp())))}),
        "unknown shop": sender.send(PARCEL, key="pk_nobody"),
        "hostile key": sender.send(PARCEL, key="x" * 300),
    }

    for reason, response in refused.items():
        assert response.status_code == 401, (reason, response.text)
        assert response.json()["error"] in ("invalid_signature", "stale_signature"), reason
    assert counts(factory) == (0, 0)
    assert sum("tracking webhook refused" in record.getMessage() for record in caplog.records) == len(refused)
    assert sender.send(PARCEL, shift=-240).status_code == 200  # within the replay window


def test_a_removed_connection_refuses_the_old_secret(sender: Sender, client: TestClient, tenant: Tenant,
                                                     factory: sessionmaker[Session]) -> None:
    client.delete("/api/v1/commerce/connections/tracking", headers=tenant.headers)

    assert sender.send(PARCEL).status_code == 401
    assert counts(factory) == (0, 0)


def test_a_replayed_delivery_changes_nothing(sender: Sender, factory: sessionmaker[Session],
                                             frozen_clock: clock.FrozenClock) -> None:
    delivery = {"X-Balie-Delivery": "track-0001"}
    first = sender.send(PARCEL, headers=delivery)
    frozen_clock.advance(seconds=30)
    again = sender.send(PARCEL, headers=delivery)  # resent, signed anew
    same_scan = sender.send(PARCEL)  # no delivery id: the core drops the repeated scan

    assert first.json()["events"]["added"] == 1
    assert again.status_code == 200 and again.json() == {"duplicate": True}
    assert same_scan.json()["events"] == {"added": 0, "known": 1, "ignored": 0}
    assert counts(factory) == (1, 1)
    frozen_clock.advance(minutes=10)
    assert sender.send(PARCEL, headers={"X-Balie-Timestamp": str(int(clock.now().timestamp()) - 600)}
                       ).status_code == 401  # a captured delivery replayed later


@pytest.mark.parametrize(("source", "raw", "expected"), [
    ("aftership", "InfoReceived", "info_received"),
    ("aftership", "InTransit", "in_transit"),
    ("aftership", "InTransit_007", "in_transit"),
    ("aftership", "OutForDelivery", "out_for_delivery"),
    ("aftership", "AttemptFail", "delivery_failed"),
    ("aftership", "AttemptFail_002", "delivery_failed"),
    ("aftership", "Delivered", "delivered"),
    ("aftership", "Delivered_005", "delivered"),
    ("aftership", "AvailableForPickup", "available_for_pickup"),
    ("aftership", "Exception", "exception"),
    ("aftership", "Exception_013", "exception"),
    ("aftership", "Exception_010", "returned_to_sender"),
    ("aftership", "Exception_011", "returned_to_sender"),
    ("aftership", "Expired", "exception"),
    ("sendcloud", 1, "info_received"),
    ("sendcloud", "3", "in_transit"),
    ("sendcloud", 92, "out_for_delivery"),
    ("sendcloud", "Driver en route", "out_for_delivery"),
    ("sendcloud", 8, "delivery_failed"),
    ("sendcloud", 12, "available_for_pickup"),
    ("sendcloud", 11, "delivered"),
    ("sendcloud", "shipment collected by customer", "delivered"),
    ("sendcloud", 80, "exception"),
    ("sendcloud", 62992, "returned_to_sender"),
    ("balie", "delivery_failed", "delivery_failed"),
])
def test_raw_statuses_of_each_source_are_mapped(sender: Sender, source: str, raw: object, expected: str) -> None:
    response = sender.send({**PARCEL, "status_source": source,
                            "events": [{"status": raw, "occurred_at": "2026-11-25T09:00:00Z"}]})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == expected


def test_statuses_that_say_nothing_about_the_parcel_are_skipped(sender: Sender, factory: sessionmaker[Session]) -> None:
    aftership = sender.send({**PARCEL, "status_source": "aftership", "events": [
        {"status": "Pending", "occurred_at": "2026-11-24T07:00:00Z"},
        {"status": "InTransit", "occurred_at": "2026-11-24T08:00:00Z"}]})
    sendcloud = sender.send({**PARCEL, "status_source": "sendcloud", "events": [
        {"status": 2000, "occurred_at": "2026-11-24T09:00:00Z"}]})

    assert aftership.json()["events"] == {"added": 1, "known": 0, "ignored": 1}
    assert sendcloud.json()["events"] == {"added": 0, "known": 0, "ignored": 1}
    assert counts(factory) == (1, 1)


def test_an_unknown_status_is_named_and_nothing_of_the_delivery_is_kept(sender: Sender,
                                                                      factory: sessionmaker[Session]) -> None:
    cases = {
        "balie": "onderweg",
        "aftership": "Teleported",
        "sendcloud": 123456,
    }
    for source, raw in cases.items():
        response = sender.send({**PARCEL, "status_source": source, "events": [
            {"status": "in_transit" if source == "balie" else ("InTransit" if source == "aftership" else 3),
             "occurred_at": "2026-11-24T08:00:00Z"},
            {"status": raw, "occurred_at": "2026-11-24T09:00:00Z"}]})
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "unknown_status"
        assert response.json()["detail"].startswith(f"events[1].status: unknown {source} status {str(raw)!r}")
    unknown_source = sender.send({**PARCEL, "status_source": "dhl"})
    assert unknown_source.status_code == 400 and unknown_source.json()["detail"].startswith("status_source:")
    assert counts(factory) == (0, 0)


def test_an_unknown_parcel_without_an_order_number_is_refused_naming_the_field(sender: Sender) -> None:
    response = sender.send({key: value for key, value in PARCEL.items() if key != "order_number"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("order_number:")


@pytest.mark.parametrize(("payload", "field"), [
    ({**PARCEL, "carrier": ""}, "carrier"),
    ({**PARCEL, "tracking_code": None}, "tracking_code"),
    ({**PARCEL, "tracking_code": "3S ABC"}, "tracking_code"),
    ({**PARCEL, "order_number": 10023}, "order_number"),
    ({**PARCEL, "tracking_url": "javascript:alert(1)"}, "tracking_url"),
    ({**PARCEL, "events": {"status": "delivered"}}, "events"),
    ({**PARCEL, "events": ["delivered"]}, "events[0]"),
    ({**PARCEL, "events": [{"status": "delivered"}]}, "events[0].occurred_at"),
    ({**PARCEL, "events": [{"status": "delivered", "occurred_at": "2026-11-25T09:00:00"}]}, "events[0].occurred_at"),
    ({**PARCEL, "events": [{"status": "delivered", "occurred_at": "gisteren"}]}, "events[0].occurred_at"),
    ({**PARCEL, "events": [{"status": "delivered", "occurred_at": "2027-01-01T09:00:00Z"}]}, "events[0].occurred_at"),
    ({**PARCEL, "events": [{"status": None, "occurred_at": "2026-11-25T09:00:00Z"}]}, "events[0].status"),
    ({**PARCEL, "events": [{"status": "delivered", "occurred_at": "2026-11-25T09:00:00Z",
                            "description": "a\x00b"}]}, "events[0].description"),
    ({**PARCEL, "carrier": "P" * 65}, "carrier"),
    ({**PARCEL, "events": [PARCEL["events"][0]] * 201}, "events"),
])
def test_malformed_and_hostile_payloads_are_refused_naming_the_field(
        sender: Sender, factory: sessionmaker[Session], payload: dict[str, Any], field: str) -> None:
    response = sender.send(payload)

    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(f"{field}:"), response.json()
    assert counts(factory) == (0, 0)


def test_bodies_that_are_not_json_objects_or_too_large_are_refused(sender: Sender,
                                                                   factory: sessionmaker[Session]) -> None:
    not_json = sender.send(None, raw=b"{carrier: PostNL")
    a_list = sender.send([PARCEL])
    deep = sender.send(None, raw=b"[" * 100_000 + b"]" * 100_000)
    large = sender.send({**PARCEL, "padding": "x" * 300_000})

    assert (not_json.status_code, not_json.json()["error"]) == (400, "malformed_payload")
    assert (a_list.status_code, a_list.json()["error"]) == (400, "malformed_payload")
    assert deep.status_code in (400, 413)
    assert large.status_code == 413
    assert counts(factory) == (0, 0)


def test_a_hostile_delivery_id_is_refused(sender: Sender, factory: sessionmaker[Session]) -> None:
    long = sender.send(PARCEL, headers={"X-Balie-Delivery": "x" * 200})
    empty = sender.send(PARCEL, headers={"X-Balie-Delivery": ""})

    assert long.status_code == 400 and long.json()["detail"].startswith("X-Balie-Delivery:")
    assert empty.status_code == 400 and empty.json()["detail"] == "X-Balie-Delivery: required"
    assert counts(factory) == (0, 0)
