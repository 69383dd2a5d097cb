"""POST /api/v1/conversations: an agent writes first, by e-mail, and it reaches the customer;
bad, oversized, hostile and repeated requests get a clear 4xx and store nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from smtp_sink import Sink, add_mailbox, external_id, message_state, receive_mail, smtp_sink
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.config import Settings
from balie.conversations.models import Conversation, Message
from balie.customers.models import Customer
from factories import Tenant, make_tenant

SALES = "verkoop@fietsen.example"


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: Sink) -> Settings:
    return dataclasses.replace(settings, smtp_relay=sink.url)


@pytest.fixture
def shop(factory: sessionmaker[Session], tenant: Tenant) -> Tenant:
    add_mailbox(factory, tenant, signature="Team Fietsen")
    add_mailbox(factory, tenant, SALES, display_name="Verkoop")
    return tenant


def start(client: TestClient, tenant: Tenant, **changes: Any) -> Any:
    body: dict[str, Any] = {"channel": "email", "customer": {"email": "Nieuwe.Klant@Example.nl", "name": "Nina"},
                            "subject": "Uw fiets is klaar", "text": "Beste Nina,\n\nUw fiets staat klaar."}
    body.update(changes)
    return client.post("/api/v1/conversations", headers=tenant.headers, json=body)


def counts(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with factory() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                     for model in (Conversation, Message, Customer))


def test_an_agent_starts_an_email_conversation(
    app: FastAPI, client: TestClient, shop: Tenant, sink: Sink, factory: sessionmaker[Session],
) -> None:
    response = start(client, shop)
    assert response.status_code == 201, response.text
    started = response.json()
    assert set(started) == {"conversation_id", "message_id", "customer_id"}
    detail = client.get(f"/api/v1/conversations/{started['conversation_id']}", headers=shop.headers).json()
    assert detail["status"] == "pending" and detail["channel"] == "email"
    assert detail["subject"] == "Uw fiets is klaar" and detail["customer_id"] == started["customer_id"]
    assert [m["direction"] for m in detail["messages"]] == ["out"]
    customer = client.get(f"/api/v1/customers/{started['customer_id']}", headers=shop.headers).json()
    assert customer["name"] == "Nina"
    assert customer["identities"] == [{"kind": "email", "value": "nieuwe.klant@example.nl"}]

    app.state.worker.run_once()
    (received,) = sink.received
    assert received.mail_from == "support@fietsen.example" and received.rcpt_tos == ["nieuwe.klant@example.nl"]
    mail = received.message
    assert mail["From"] == "Fietsenwinkel <support@fietsen.example>"
    assert mail["Subject"] == f"Uw fiets is klaar [#{started['conversation_id']}]"  # no Re: on a first message
    assert mail["Message-ID"] == external_id(factory, started["message_id"])
    assert mail["In-Reply-To"] is None and mail["References"] is None
    plain = mail.get_body(("plain",))
    assert plain is not None and "Uw fiets staat klaar.\r\n\r\n-- \r\nTeam Fietsen" in plain.get_content()
    state = message_state(client, shop, started["conversation_id"], started["message_id"])
    assert state["delivery_state"] == "sent"


def test_the_customers_answer_threads_back_into_it(
    app: FastAPI, client: TestClient, shop: Tenant, sink: Sink, factory: sessionmaker[Session],
) -> None:
    started = start(client, shop).json()
    our_id = external_id(factory, started["message_id"])
    conversation_id = receive_mail(factory, shop, message_id="<antwoord@example.nl>", sender="nieuwe.klant@example.nl",
                                   subject=f"Re: Uw fiets is klaar [#{started['conversation_id']}]",
                                   references=[our_id])
    assert conversation_id == started["conversation_id"]


def test_from_picks_another_support_address_of_the_shop(
    app: FastAPI, client: TestClient, shop: Tenant, sink: Sink,
) -> None:
    response = start(client, shop, **{"from": "  Verkoop@Fietsen.example "})
    assert response.status_code == 201, response.text
    app.state.worker.run_once()
    assert sink.received[0].message["From"] == f"Verkoop <{SALES}>"
    assert sink.received[0].mail_from == SALES


def test_an_existing_customer_is_found_not_duplicated(
    client: TestClient, shop: Tenant, factory: sessionmaker[Session],
) -> None:
    first = start(client, shop).json()
    second = start(client, shop, subject="Nog een vraag", customer={"email": "nieuwe.klant@example.nl"}).json()
    assert second["customer_id"] == first["customer_id"]
    assert second["conversation_id"] != first["conversation_id"]  # a new subject is a new conversation


def test_the_same_message_twice_is_refused_as_a_duplicate(
    app: FastAPI, client: TestClient, shop: Tenant, sink: Sink, factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock,
) -> None:
    first = start(client, shop)
    assert first.status_code == 201
    again = start(client, shop, text="  Beste Nina,\n\nUw fiets staat klaar.\n")
    assert again.status_code == 409
    assert again.json()["error"] == "duplicate_conversation"
    assert f"#{first.json()['conversation_id']}" in again.json()["detail"]
    before = counts(factory)
    frozen_clock.advance(minutes=11)  # long after a double click: a deliberate second mail
    assert start(client, shop).status_code == 201
    assert counts(factory)[0] == before[0] + 1
    app.state.worker.run_once()
    assert len(sink.received) == 2


@pytest.mark.parametrize(("changes", "status", "code"), [
    ({"channel": "chat"}, 400, "unsupported_channel"),
    ({"channel": "telepathy"}, 400, "unsupported_channel"),
    ({"customer": {"email": "geen-adres"}}, 400, "invalid_address"),
    ({"customer": {"email": "a@b.nl,x@y.nl"}}, 400, "invalid_address"),
    ({"customer": {"email": "Klaas <a@b.nl>"}}, 400, "invalid_address"),
    ({"customer": {"email": "a@b.nl\r\nBcc: x@y.nl"}}, 400, "invalid_address"),
    ({"customer": {"email": "a@b.nl", "name": "Klaas\r\nBcc: x@y.nl"}}, 400, "invalid_text"),
    ({"subject": "Hallo\r\nBcc: x@y.nl"}, 400, "invalid_text"),
    ({"subject": "   "}, 400, "empty_subject"),
    ({"text": "  \n "}, 400, "empty_message"),
    ({"text": "nul\x00byte"}, 400, "invalid_text"),
    ({"text": "x" * (1024 * 1024 + 1)}, 413, "text_too_large"),
    ({"from": "iemand@elders.example"}, 400, "unknown_mailbox"),
    ({"from": "support@fietsen.example\r\nBcc: x@y.nl"}, 400, "invalid_text"),
    ({"subject": "x" * 501}, 422, "validation_error"),
    ({"customer": {"name": "Geen adres"}}, 422, "validation_error"),
    ({"customer": {"email": "a@b.nl"}, "bcc": "x@y.nl"}, 422, "validation_error"),
    ({"from_": "support@fietsen.example"}, 422, "validation_error"),
    ({"text": 42}, 422, "validation_error"),
])
def test_bad_input_is_refused_clearly_and_stores_nothing(
    app: FastAPI, client: TestClient, shop: Tenant, sink: Sink, factory: sessionmaker[Session],
    changes: dict[str, Any], status: int, code: str,
) -> None:
    before = counts(factory)
    response = start(client, shop, **changes)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["detail"]
    assert counts(factory) == before
    assert app.state.worker.run_once() == 0 and sink.received == []


def test_a_body_that_is_not_json_is_refused(client: TestClient, shop: Tenant) -> None:
    response = client.post("/api/v1/conversations", headers={**shop.headers, "Content-Type": "application/json"},
                           content=b'{"channel": "email", ')
    assert response.status_code in (400, 422) and response.json()["error"]


def test_another_shops_mailbox_cannot_be_sent_from(
    client: TestClient, shop: Tenant, factory: sessionmaker[Session],
) -> None:
    other = make_tenant(factory, name="Andere Winkel")
    add_mailbox(factory, other, "info@andere.example")
    response = start(client, shop, **{"from": "info@andere.example"})
    assert response.status_code == 400 and response.json()["error"] == "unknown_mailbox"


def test_a_shop_without_a_mailbox_cannot_start_one(client: TestClient, tenant: Tenant) -> None:
    response = start(client, tenant)
    assert response.status_code == 400 and response.json()["error"] == "no_mailbox"


def test_it_needs_a_token(client: TestClient, shop: Tenant) -> None:
    response = client.post("/api/v1/conversations", json={"channel": "email"})
    assert response.status_code == 401
