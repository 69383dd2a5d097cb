"""POST /webhooks/woocommerce/{shop_public_key}: WooCommerce's order webhooks as a shop owner
sees them arrive — signed or refused, the ping answered, repeats and late updates harmless,
a deleted order kept as cancelled, bad payloads refused naming WooCommerce's field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from woocommerce_support import connect, deliver, sign, wc_order

from balie.commerce.models import Order, WebhookDelivery
from factories import Tenant
from statements import counting


def the_order(client: TestClient, tenant: Tenant, number: str = "727") -> Any:
    items = client.get(f"/api/v1/orders?number={number}", headers=tenant.headers).json()["items"]
    return items[0] if items else None


def order_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def test_a_new_order_arrives_with_its_customer_lines_and_promise(client: TestClient, tenant: Tenant,
                                                                 factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)

    response = deliver(client, url, wc_order(), topic="order.created")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "created"
    order = the_order(client, tenant)
    assert (order["number"], order["source"], order["external_id"]) == ("727", "woocommerce", "727")
    assert (order["status"], order["payment_status"]) == ("open", "paid")
    assert (order["total"], order["currency"]) == ("938.90", "EUR")
    assert order["placed_at"].startswith("2026-11-23T20:40:00")  # date_created_gmt, in UTC
    assert order["promise"]["date"] == "2026-11-24"
    assert [(line["sku"], line["name"], line["quantity"], line["price"]) for line in order["lines"]] == [
        ("LAP-14", "Laptop 14 inch", 1, "742.98"), ("", "Laptophoes", 2, "16.49")]
    customer = client.get(f"/api/v1/customers/{order['customer_id']}", headers=tenant.headers).json()
    assert customer["name"] == "Jan Jansen"
    identities = {(item["kind"], item["value"]) for item in customer["identities"]}
    assert {("email", "jan@example.nl"), ("phone", "+31612345678"), ("external", "26")} <= identities


def test_the_ping_sent_when_the_webhook_is_saved_is_answered(client: TestClient, tenant: Tenant,
                                                             factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    form = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "WooCommerce/9.4.2 Hookshot"}

    ping = client.post(url, content=b"webhook_id=12", headers=form)
    unknown_shop = client.post("/webhooks/woocommerce/pk_nobody", content=b"webhook_id=12", headers=form)
    with_topic = client.post(url, content=b"webhook_id=12", headers={**form, "X-WC-Webhook-Topic": "order.created"})
    other_body = client.post(url, content=b"webhook_id=12&status=completed", headers=form)

    assert ping.status_code == 200 and ping.json()["status"] == "pong"
    assert unknown_shop.status_code == 401
    assert with_topic.status_code == 401 and other_body.status_code == 401
    assert order_count(factory) == 0


def test_a_missing_or_wrong_signature_changes_nothing(client: TestClient, tenant: Tenant, other_tenant: Tenant,
                                                      factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    other_url = connect(client, other_tenant, factory, secret="another-shops-secret-0123")
    body = json.dumps(wc_order()).encode()

    missing = deliver(client, url, None, body=body, signature=None)
    wrong = deliver(client, url, None, body=body, signature=sign(body, "not-the-secret-0123456"))
    tampered = deliver(client, url, None, body=body.replace(b"938.90", b"0.01"), signature=sign(body))
    other_shop = deliver(client, other_url, None, body=body, signature=sign(body))
    not_connected = deliver(client, "/webhooks/woocommerce/pk_unknown", None, body=body)

    for response in (missing, wrong, tampered, other_shop, not_connected):
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_signature"
    assert order_count(factory) == 0
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_a_replayed_delivery_changes_nothing(client: TestClient, tenant: Tenant,
                                             factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    first = deliver(client, url, wc_order(), topic="order.created", delivery_id="d-1")
    before = the_order(client, tenant)

    replay = deliver(client, url, wc_order(), topic="order.created", delivery_id="d-1")
    same_id_newer_body = deliver(client, url, wc_order(status="completed", date_modified_gmt="2026-11-24T09:00:00"),
                                 delivery_id="d-1")

    assert first.json()["status"] == "created"
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert same_id_newer_body.json()["status"] == "duplicate"
    assert the_order(client, tenant) == before
    assert order_count(factory) == 1


def test_an_older_update_arriving_late_never_overwrites_a_newer_one(client: TestClient, tenant: Tenant,
                                                                    factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    deliver(client, url, wc_order(), topic="order.created")
    newer = deliver(client, url, wc_order(status="completed", date_modified_gmt="2026-11-24T15:00:00"))

    older = deliver(client, url, wc_order(status="on-hold", date_modified_gmt="2026-11-24T09:00:00"))

    assert newer.json()["status"] == "updated"
    assert older.status_code == 200 and older.json()["status"] == "unchanged"
    order = the_order(client, tenant)
    assert (order["status"], order["payment_status"]) == ("completed", "paid")


def test_every_woocommerce_status_maps_onto_balies(client: TestClient, tenant: Tenant,
                                                   factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    expected = {"pending": ("open", "pending"), "on-hold": ("open", "on_hold"), "processing": ("open", "paid"),
                "completed": ("completed", "paid"), "cancelled": ("cancelled", "voided"),
                "refunded": ("cancelled", "refunded"), "failed": ("cancelled", "failed"),
                "shipped": ("open", "paid")}  # a plugin's own status: still going on
    for index, status in enumerate(expected):
        deliver(client, url, wc_order(id=800 + index, number=str(800 + index), status=status), topic="order.created")

    seen = {status: (the_order(client, tenant, str(800 + index))["status"],
                     the_order(client, tenant, str(800 + index))["payment_status"])
            for index, status in enumerate(expected)}
    assert seen == expected


def test_a_deleted_order_is_kept_cancelled_and_a_restore_reopens_it(client: TestClient, tenant: Tenant,
                                                                    factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    deliver(client, url, wc_order(), topic="order.created")

    deleted = deliver(client, url, {"id": 727}, topic="order.deleted")
    again = deliver(client, url, {"id": 727}, topic="order.deleted")
    unknown = deliver(client, url, {"id": 99999}, topic="order.deleted")
    cancelled = the_order(client, tenant)
    restored = deliver(client, url, wc_order(date_modified_gmt="2026-11-24T12:00:00"), topic="order.restored")

    assert deleted.json()["status"] == "cancelled" and again.json()["status"] == "unchanged"
    assert unknown.status_code == 200 and unknown.json()["status"] == "unknown_order"
    assert cancelled["status"] == "cancelled" and len(cancelled["lines"]) == 2  # the history stays
    assert restored.json()["status"] == "updated" and the_order(client, tenant)["status"] == "open"
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_deleted_order_is_looked_up_through_an_index(client: TestClient, tenant: Tenant,
                                                        factory: sessionmaker[Session]) -> None:
    """order.deleted names the order only by WooCommerce's id: without an index on (shop,
    external_id) the look-up reads every order (a million, at a large install). With
    sequential scans switched off the planner shows whether an index serves the statement
    Balie sends."""
    url = connect(client, tenant, factory)
    deliver(client, url, wc_order(), topic="order.created")
    engine = factory.kw["bind"]
    sent: list[Any] = []
    with counting(engine, parameters=sent) as statements:
        deleted = deliver(client, url, {"id": 727}, topic="order.deleted")
    lookups = [(statement, parameters) for statement, parameters in zip(statements, sent, strict=True)
               if "commerce_order.external_id = " in statement]

    assert deleted.json()["status"] == "cancelled" and lookups
    with engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in lookups:
            plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars())
            assert "ix_commerce_order_external" in plan, plan


def test_other_topics_are_answered_and_ignored(client: TestClient, tenant: Tenant,
                                               factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)

    product = deliver(client, url, {"id": 93, "name": "Laptop 14 inch"}, topic="product.updated")
    coupon = deliver(client, url, None, body=b"not even json", topic="coupon.created")

    assert product.status_code == 200 and product.json()["status"] == "ignored"
    assert coupon.status_code == 200 and coupon.json()["status"] == "ignored"
    assert order_count(factory) == 0


def test_malformed_deliveries_are_refused_naming_the_field(client: TestClient, tenant: Tenant,
                                                          factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    bad_line = wc_order()
    bad_line["line_items"][1]["quantity"] = -2
    bad_email = wc_order()
    bad_email["billing"]["email"] = "geen adres"
    cases = {
        "body: not JSON": deliver(client, url, None, body=b'{"id": 727, "number": '),
        "body: expected a JSON object": deliver(client, url, [wc_order()]),
        "line_items[1].quantity: must be at least 1": deliver(client, url, bad_line),
        "currency: 'EUX' is not an ISO 4217": deliver(client, url, wc_order(currency="EUX")),
        "date_created_gmt: expected a time": deliver(client, url, wc_order(date_created_gmt="gisteren")),
        "date_created_gmt: required": deliver(client, url, wc_order(date_created_gmt=None)),
        "billing.email:": deliver(client, url, bad_email),
        "number: required": deliver(client, url, wc_order(number="")),
        "total: must not be negative": deliver(client, url, wc_order(total="-5.00")),
        "line_items: unexpected type": deliver(client, url, wc_order(line_items="laptop")),
        "meta_data.balie_promised_delivery_date: expected a date": deliver(
            client, url, wc_order(meta_data=[{"id": 1, "key": "balie_promised_delivery_date", "value": "morgen"}])),
        "id: expected the order's id": deliver(client, url, {"id": "727"}, topic="order.deleted"),
        "X-WC-Webhook-Topic: required": deliver(client, url, wc_order(), topic=""),
    }

    for detail, response in cases.items():
        assert response.status_code == 400, (detail, response.text)
        assert response.json()["detail"].startswith(detail), (detail, response.json())
    assert order_count(factory) == 0
    with factory() as session:  # a refused delivery is not taken: fixed and sent again, it counts
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_oversized_and_hostile_deliveries(client: TestClient, tenant: Tenant,
                                          factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    huge = wc_order(customer_note="x" * (3 * 1024 * 1024))
    control = wc_order()
    control["line_items"][0]["name"] = "Laptop\x00\x1b[2J"
    long_number = wc_order(number="9" * 10_000)
    too_many_lines = wc_order(line_items=[ORDER_LINE] * 501)
    script = wc_order(id=728, number="728")
    script["line_items"][0]["name"] = "<script>alert(1)</script>"

    oversized = deliver(client, url, huge)
    assert oversized.status_code == 413
    assert deliver(client, url, control).json()["detail"].startswith("line_items[0].name: contains a control")
    assert deliver(client, url, long_number).json()["detail"].startswith("number: longer than 64")
    assert deliver(client, url, too_many_lines).json()["detail"].startswith("line_items: at most 500")
    assert order_count(factory) == 0
    # Markup is text: stored as sent, escaped wherever it is shown.
    assert deliver(client, url, script, topic="order.created").status_code == 200
    assert the_order(client, tenant, "728")["lines"][0]["name"] == "<script>alert(1)</script>"


def test_an_unparseable_phone_is_left_out_and_a_belgian_number_read_as_belgian(
        client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    odd = wc_order()
    odd["billing"]["phone"] = "bel me maar"
    belgian = wc_order(id=729, number="729")
    belgian["billing"].update(email="an@example.be", phone="0470 12 34 56", country="BE")

    assert deliver(client, url, odd, topic="order.created").json()["status"] == "created"
    assert deliver(client, url, belgian, topic="order.created").json()["status"] == "created"
    customer = client.get(f"/api/v1/customers/{the_order(client, tenant, '729')['customer_id']}",
                          headers=tenant.headers).json()
    assert ("phone", "+32470123456") in {(item["kind"], item["value"]) for item in customer["identities"]}


ORDER_LINE = {"id": 1, "name": "Sokken", "product_id": 5, "variation_id": 0, "quantity": 1, "sku": "SOK",
              "price": 4.5, "total": "4.50"}


def test_numbers_the_database_would_refuse_get_a_clear_answer(client: TestClient, tenant: Tenant,
                                                              factory: sessionmaker[Session]) -> None:
    url = connect(client, tenant, factory)
    huge = 2**70
    big_quantity = wc_order()
    big_quantity["line_items"][0]["quantity"] = huge
    not_a_number = wc_order()
    not_a_number["line_items"][0]["price"] = float("nan")

    assert deliver(client, url, big_quantity).json()["detail"].startswith("line_items[0].quantity: larger than")
    assert deliver(client, url, not_a_number).json()["detail"].startswith("line_items[0].price: not a finite")
    assert deliver(client, url, wc_order(total="1e400")).json()["detail"].startswith("total: larger than")
    assert deliver(client, url, {"id": huge}, topic="order.deleted").json()["status"] == "unknown_order"
    assert deliver(client, url, wc_order(customer_id=huge, id=huge), topic="order.created").status_code == 200
    assert order_count(factory) == 1
