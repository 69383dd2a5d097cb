"""Shopify's mandatory privacy topics: a data request lands in the inbox listing what Balie
holds; a customer redaction takes what came from Shopify; a shop redaction removes every
Shopify order, parcel and scan. Each is audited without copying the personal data."""

from __future__ import annotations

from typing import Any

import pytest
from commerce_support import ORDER
from commerce_support import post as post_api_order
from fastapi.testclient import TestClient
from shopify_support import connect, deliver, fulfillment, order
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.audit.models import AuditEvent
from balie.commerce.models import Order, Shipment
from balie.customers.models import Customer, Identity
from factories import Tenant, post_message

CUSTOMER = {"id": 7301, "email": "jan@example.nl", "phone": "+31612345678"}


@pytest.fixture
def key(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> str:
    return connect(client, tenant, factory)


def audits(factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def identities_of(factory: sessionmaker[Session], customer_id: int) -> list[tuple[str, str]]:
    with factory() as session:
        return sorted((row.kind, row.value) for row in session.scalars(
            select(Identity).where(Identity.customer_id == customer_id)))


def shopify_order(client: TestClient, key: str, **changes: Any) -> None:
    response = deliver(client, key, "orders/create", order(**changes))
    assert response.status_code == 200, response.text


def customer_of(factory: sessionmaker[Session], number: str) -> int | None:
    with factory() as session:
        return session.scalar(select(Order.customer_id).where(Order.number == number))


def test_a_data_request_lands_in_the_inbox_with_what_balie_holds(client: TestClient, tenant: Tenant, key: str,
                                                                  factory: sessionmaker[Session]) -> None:
    shopify_order(client, key)
    shopify_order(client, key, id=5201100005, name="#1005", total_price="19.95")
    post_message(client, tenant, customer={"email": "jan@example.nl"}, text="Waar blijft mijn laptop?")
    payload = {"shop_id": 954889, "shop_domain": "winkel.myshopify.com", "orders_requested": [5201100001],
               "customer": CUSTOMER, "data_request": {"id": 9999}}

    first = deliver(client, key, "customers/data_request", payload)
    again = deliver(client, key, "customers/data_request", payload)  # a new delivery of the same request

    assert first.status_code == 200 and first.json()["status"] == "applied", first.text
    listed = client.get("/api/v1/conversations", params={"channel": "form"}, headers=tenant.headers).json()["items"]
    assert [item["subject"] for item in listed] == ["Privacy: verzoek om gegevens via Shopify"]
    detail = client.get(f"/api/v1/conversations/{listed[0]['id']}", headers=tenant.headers).json()
    assert len(detail["messages"]) == 1
    text = detail["messages"][0]["text"]
    for expected in ("Shopify-verzoek 9999", "Naam: Jan Jansen", "e-mail: jan@example.nl", "telefoon: +31612345678",
                     "klantnummer van de winkel: 7301", "Bestellingen: 2", "1002 van 23 november 2026, 938.90 EUR",
                     "1005 van", "Gesprekken: 1", "Terugbelverzoeken: 0"):
        assert expected in text, text
    assert again.status_code == 200
    # Sent again under a new delivery id, the request is recorded again but stays one conversation.
    recorded = audits(factory, "shopify.data_requested")
    assert [(audit.data["request"], audit.data["conversations"]) for audit in recorded] == [
        ("9999", [listed[0]["id"]])] * 2
    assert "jan@example.nl" not in str(recorded[0].data)


def test_a_data_request_about_someone_unknown_is_recorded_only(client: TestClient, tenant: Tenant, key: str,
                                                               factory: sessionmaker[Session]) -> None:
    response = deliver(client, key, "customers/data_request", {
        "shop_id": 954889, "customer": {"id": 1, "email": "onbekend@example.nl"}, "orders_requested": []})

    assert response.status_code == 200
    assert client.get("/api/v1/conversations", params={"status": "all"}, headers=tenant.headers).json()["items"] == []
    [audit] = audits(factory, "shopify.data_requested")
    assert audit.data["customers"] == [] and audit.data["request"] == "?"
    with factory() as session:
        assert session.scalars(select(Customer)).all() == []  # asking created nobody


def test_redacting_a_customer_known_only_from_shopify_empties_them(client: TestClient, tenant: Tenant, key: str,
                                                                   factory: sessionmaker[Session]) -> None:
    shopify_order(client, key)
    customer_id = customer_of(factory, "1002")
    assert customer_id is not None

    response = deliver(client, key, "customers/redact", {
        "shop_id": 954889, "shop_domain": "winkel.myshopify.com", "customer": CUSTOMER,
        "orders_to_redact": [5201100001]})

    assert response.status_code == 200, response.text
    [stored] = client.get("/api/v1/orders", params={"number": "1002"}, headers=tenant.headers).json()["items"]
    assert stored["customer_id"] is None and stored["total"] == "938.90"  # the shop's books keep the order
    assert identities_of(factory, customer_id) == []
    with factory() as session:
        assert session.get_one(Customer, customer_id).name == ""
    [audit] = audits(factory, "shopify.customer_redacted")
    assert audit.object_id == customer_id and audit.data["emptied"] is True
    assert audit.data["identities_removed"] == ["email", "external", "phone"]
    assert "jan@example.nl" not in str(audit.data) and "7301" not in str(audit.data)


def test_redacting_a_customer_who_also_wrote_keeps_their_own_contact(client: TestClient, tenant: Tenant, key: str,
                                                                      factory: sessionmaker[Session]) -> None:
    shopify_order(client, key)
    post_message(client, tenant, customer={"email": "jan@example.nl"}, text="Waar blijft mijn laptop?")
    customer_id = customer_of(factory, "1002")
    assert customer_id is not None

    response = deliver(client, key, "customers/redact", {"customer": CUSTOMER, "orders_to_redact": [5201100001]})

    assert response.status_code == 200
    assert customer_of(factory, "1002") is None
    assert identities_of(factory, customer_id) == [("email", "jan@example.nl"), ("phone", "+31612345678")]
    [audit] = audits(factory, "shopify.customer_redacted")
    assert audit.data == {"orders_detached": 1, "identities_removed": ["external"], "emptied": False}
    conversations = client.get("/api/v1/conversations", headers=tenant.headers).json()["items"]
    assert len(conversations) == 1  # what the customer wrote to the shop stays the shop's


def test_redacting_a_shop_removes_everything_shopify_gave(app: Any, client: TestClient, tenant: Tenant, key: str,
                                                          factory: sessionmaker[Session],
                                                          frozen_clock: object) -> None:
    shopify_order(client, key)
    deliver(client, key, "fulfillments/create", fulfillment())
    shopify_order(client, key, id=5201100006, name="#1006", email="kees@example.nl",
                  customer={"id": 7302, "email": "kees@example.nl"})
    post_message(client, tenant, customer={"email": "kees@example.nl"}, text="Kan ik nog iets toevoegen?")
    own = post_api_order(client, tenant, dict(ORDER, customer={"email": "piet@example.nl"}))
    assert own.status_code == 201
    shopify_customer, writer = customer_of(factory, "1002"), customer_of(factory, "1006")

    response = deliver(client, key, "shop/redact", {"shop_id": 954889, "shop_domain": "winkel.myshopify.com"})

    # Answered at once (Shopify waits 5 seconds); the worker erases.
    assert response.status_code == 200, response.text
    assert response.json()["detail"].startswith("shop redaction scheduled")
    assert customer_of(factory, "1002") is not None and audits(factory, "shopify.shop_redacted") == []
    app.state.worker.run_once()
    with factory() as session:
        assert session.scalars(select(Order.number)).all() == ["10023"]
        assert session.scalars(select(Shipment)).all() == []
    assert shopify_customer is not None and identities_of(factory, shopify_customer) == []
    # Someone who wrote to the shop keeps what they wrote from, and the conversation.
    assert writer is not None and identities_of(factory, writer) == [("email", "kees@example.nl"),
                                                                     ("external", "7302")]
    [audit] = audits(factory, "shopify.shop_redacted")
    assert audit.data == {"orders": 2, "shipments": 1, "tracking_events": 1, "customers_emptied": 1}
    # The app is gone: the connection with it, so later deliveries are refused.
    assert deliver(client, key, "orders/create", order()).status_code == 401
    app.state.worker.run_once()
    assert len(audits(factory, "shopify.shop_redacted")) == 1  # done once


def test_a_shop_redaction_leaves_what_shopify_sends_after_a_reconnection(
        app: Any, client: TestClient, tenant: Tenant, key: str, factory: sessionmaker[Session],
        frozen_clock: Any) -> None:
    shopify_order(client, key)
    assert deliver(client, key, "shop/redact", {"shop_id": 954889}).status_code == 200
    assert deliver(client, key, "orders/create", order()).status_code == 401  # the connection went at once

    frozen_clock.advance(minutes=5)
    key = connect(client, tenant, factory)  # the shop installs the app again before the worker ran
    shopify_order(client, key, id=5201100007, name="#1007", email="kees@example.nl",
                  customer={"id": 7302, "email": "kees@example.nl"})
    shopify_order(client, key, id=5201100008, name="#1008")  # Jan orders again
    app.state.worker.run_once()

    with factory() as session:
        assert sorted(session.scalars(select(Order.number)).all()) == ["1007", "1008"]
    jan = customer_of(factory, "1008")
    assert jan is not None and ("email", "jan@example.nl") in identities_of(factory, jan)  # his new order's
    [done] = audits(factory, "shopify.shop_redacted")
    assert done.data["orders"] == 1 and len(audits(factory, "shopify.shop_redact_requested")) == 1


@pytest.mark.parametrize("topic", ["customers/data_request", "customers/redact"])
def test_a_privacy_request_without_a_customer_names_the_field(topic: str, client: TestClient, key: str,
                                                              factory: sessionmaker[Session]) -> None:
    missing = deliver(client, key, topic, {"shop_id": 954889, "shop_domain": "winkel.myshopify.com"})
    wrong = deliver(client, key, topic, {"customer": {"id": 7301}, "orders_to_redact": "alles",
                                         "orders_requested": "alles"})

    assert missing.status_code == 400 and missing.json()["detail"].startswith("customer: required")
    assert wrong.status_code == 400 and wrong.json()["detail"].startswith("orders_")
    assert audits(factory, "shopify.data_requested") == [] and audits(factory, "shopify.customer_redacted") == []


def test_privacy_topics_need_the_signature_too(client: TestClient, key: str, factory: sessionmaker[Session]) -> None:
    shopify_order(client, key)

    response = deliver(client, key, "shop/redact", {"shop_id": 954889}, signature="Zm9v")

    assert response.status_code == 401
    assert customer_of(factory, "1002") is not None
