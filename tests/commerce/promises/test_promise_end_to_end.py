"""End to end, with the clock moved by hand: a Shopify-signed order with a next-day promise arrives, the
parcel has no carrier scan by the cut-off, the worker's monitor finds it and the customer
receives the apology with a voucher through a real SMTP server; the new date breaks too
(delivery failed) and an agent gets an urgent conversation, while no second mail goes out.
And a customer who already asked in the chat gets the update in that chat."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from promise_support import (
    breaches,
    enable,
    local,
    order,
    post_order,
    run_worker,
    scan,
    ship,
    shopify_order,
    vouchers,
)
from smtp_sink import SUPPORT, Sink, add_mailbox, smtp_sink
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.channels.chat import service as chat_service
from balie.config import Settings
from balie.shops.models import Shop
from factories import Tenant


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: Sink) -> Settings:
    return dataclasses.replace(settings, smtp_relay=sink.url)


def plain_text(mail: Any) -> str:
    return str(next(part.get_content() for part in mail.walk() if part.get_content_type() == "text/plain"))


def test_no_scan_by_the_cutoff_mails_the_customer_first_and_a_second_breach_goes_to_a_human(
    app: Any, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(23, 21, 40)
    add_mailbox(factory, tenant)
    enable(client, tenant)  # the defaults: cut-off 22:00, €5 from one day late, €10 from three, not under €20
    placed = shopify_order(client, tenant, factory)  # Monday evening, promised for Tuesday the 24th

    frozen_clock.current = local(23, 21, 59)
    run_worker(app)
    assert sink.received == [] and breaches(client, tenant, placed["id"]) == []  # before the cut-off: nothing

    frozen_clock.current = local(23, 22, 1)  # the cut-off passed without a carrier scan
    run_worker(app)

    (mail,) = [item.message for item in sink.received]
    [voucher] = vouchers(client, tenant, placed["id"])
    assert voucher["amount"] == "5.00" and voucher["currency"] == "EUR"
    assert mail["To"].addresses[0].addr_spec == "jan@example.nl" and SUPPORT in mail["From"]
    assert mail["Subject"].startswith("Je bestelling 10023 komt later dan beloofd")
    body = plain_text(mail)
    assert body.startswith("Hallo Jan Jansen,")
    assert "niet op tijd bij de vervoerder" in body  # what happened
    assert "woensdag 25 november" in body  # the new expected date
    assert "Het spijt ons" in body  # the apology
    assert voucher["code"] in body and "5,00" in body
    [first] = breaches(client, tenant, placed["id"])
    assert first["rule"] == "cutoff" and first["state"] == "notified" and first["channel"] == "email"
    assert first["new_expected_date"] == "2026-11-25" and first["customer_asked_first"] is False

    customer = client.get(f"/api/v1/customers/{placed['customer_id']}", headers=tenant.headers).json()
    [entry] = [item for item in customer["timeline"] if item["type"] == "conversation"]
    assert entry["conversation"]["id"] == first["conversation_id"]
    assert entry["conversation"]["subject"].startswith("Je bestelling 10023")
    detail = client.get(f"/api/v1/conversations/{first['conversation_id']}", headers=tenant.headers).json()
    notice = [m for m in detail["messages"] if m["direction"] == "out"]
    notes = [m for m in detail["messages"] if m["direction"] == "note"]
    assert len(notice) == 1 and notice[0]["delivery_state"] == "sent" and notice[0]["author_type"] == "system"
    assert notice[0]["flags"] == ["promise_notice"]
    assert voucher["code"] in notes[0]["text"]  # the agent sees the voucher on the conversation

    # Another pass, and another day: the same breach is not acted on again.
    frozen_clock.current = local(24, 8, 0)
    shipment = ship(client, tenant)
    scan(client, tenant, shipment, "in_transit", local(24, 7, 55), "Sorteercentrum")
    run_worker(app)
    frozen_clock.current = local(25, 9, 0)
    scan(client, tenant, shipment, "out_for_delivery", local(25, 8, 30))
    run_worker(app)
    assert len(sink.received) == 1

    # The new date breaks too: the driver could not deliver.
    frozen_clock.current = local(25, 14, 5)
    scan(client, tenant, shipment, "delivery_failed", local(25, 14, 0), "Niet thuis")
    run_worker(app)
    frozen_clock.current = local(25, 15, 0)
    run_worker(app)

    assert len(sink.received) == 1  # no second automatic apology
    first, second = breaches(client, tenant, placed["id"])
    assert second["generation"] == 2 and second["rule"] == "exception" and second["state"] == "escalated"
    assert len(vouchers(client, tenant, placed["id"])) == 1
    urgent = client.get(f"/api/v1/conversations/{second['conversation_id']}", headers=tenant.headers).json()
    assert urgent["priority"] == "urgent" and urgent["assignee"] is None and urgent["status"] == "open"
    history = urgent["messages"][-1]
    assert history["direction"] == "note"
    for fact in ("Oorspronkelijke belofte: dinsdag 24 november", "Eerste breuk (cutoff)", "via email",
                 voucher["code"], "Nieuwe verwachte datum: woensdag 25 november", "Tweede breuk (exception)",
                 "niet kunnen bezorgen"):
        assert fact in history["text"], fact
    assert len([m for m in urgent["messages"] if m["direction"] == "out"]) == 1

    stats = client.get("/api/v1/commerce/promise-stats", headers=tenant.headers).json()
    assert stats["broken"] == 1 and stats["told_first"] == 1 and stats["told_first_share"] == 1.0
    assert stats["escalated"] == 1 and stats["vouchers"] == 1
    assert stats["voucher_amounts"] == [{"currency": "EUR", "amount": "5.00"}]
    assert stats["median_seconds_to_notice"] is not None and stats["median_seconds_to_notice"] >= 0


def test_a_customer_who_already_asked_in_the_chat_gets_the_update_there(
    app: Any, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(23, 21, 40)
    add_mailbox(factory, tenant)
    enable(client, tenant)
    placed = post_order(client, tenant, order())
    with factory() as session, session.begin():
        secret = chat_service.settings_for(session, tenant.shop_id).secret
        public_key = session.get_one(Shop, tenant.shop_id).public_key
    # The shop's page says who is logged in (signed), so the chat is Jan's.
    expires = int(frozen_clock.current.timestamp()) + 3600
    claim = {"id": "", "email": "jan@example.nl", "expires": expires,
             "signature": chat_service.sign_claim(secret, "", "jan@example.nl", expires)}

    with client.websocket_connect(f"/widget/ws?shop={public_key}") as ws:
        ws.send_json({"type": "hello", "language": "nl", "customer": claim})
        welcome = ws.receive_json()
        assert welcome["verified"] is True
        ws.send_json({"type": "message", "client_id": "q1", "text": "Komt bestelling 10023 morgen echt?"})
        assert ws.receive_json()["type"] == "ack"
        run_worker(app)

        frozen_clock.current = local(23, 22, 1)
        run_worker(app)

        frame = ws.receive_json()
        assert frame["type"] == "message" and frame["message"]["direction"] == "out"
        assert "woensdag 25 november" in frame["message"]["text"]

    assert sink.received == []  # no e-mail: the answer went where they asked
    [breach] = breaches(client, tenant, placed["id"])
    assert breach["channel"] == "chat" and breach["customer_asked_first"] is True
    stats = client.get("/api/v1/commerce/promise-stats", headers=tenant.headers).json()
    assert stats["broken"] == 1 and stats["customer_asked_first"] == 1 and stats["told_first"] == 0
    assert stats["told_first_share"] == 0.0
