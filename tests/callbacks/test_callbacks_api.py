"""POST /api/v1/callbacks and the queue: numbers in E.164, clear errors, nothing half-written,
one open call-back per number, the shop's own only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.audit.models import AuditEvent
from balie.callbacks.models import Callback
from balie.conversations.models import Conversation, Message
from factories import Tenant, post_message


def _count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_dutch_mobile_is_stored_in_e164_and_lands_in_the_inbox(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    response = client.post("/api/v1/callbacks", headers=tenant.headers,
                           json={"phone": "06 12345678", "name": "Klaas", "topic": "Mijn bestelling"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone"] == "+31612345678"
    assert body["status"] == "open" and body["overdue"] is False and body["attempts"] == 0
    assert body["due_at"] == "2026-11-24T10:30:00Z"  # no hours set: always open, 30 minutes
    assert body["promise"] == {"nl": "We bellen je binnen 30 minuten terug.",
                               "en": "We will call you back within 30 minutes."}
    assert body["source"] == "api" and body["window"] is None
    with factory() as session:
        conversation = session.get_one(Conversation, body["conversation_id"])
        assert conversation.channel == "phone" and conversation.status == "open"
        assert conversation.customer_id == body["customer_id"]
        message = session.scalars(select(Message).where(Message.conversation_id == conversation.id)).one()
        assert "+31612345678" in message.text and "Mijn bestelling" in message.text
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "callback.created")).one()
        assert audit.object_id == body["id"] and audit.actor_agent_id == tenant.agent_id
    fetched = client.get(f"/api/v1/callbacks/{body['id']}", headers=tenant.headers)
    assert fetched.status_code == 200 and fetched.json()["phone"] == "+31612345678"
    # The customer is found by the number through the ordinary ingest path.
    later = post_message(client, tenant, customer={"phone": "+31 6 1234 5678"}, text="Nog iets")
    assert later["customer_id"] == body["customer_id"]


def test_belgian_number(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/api/v1/callbacks", headers=tenant.headers, json={"phone": "+32 470 12 34 56"})
    assert response.status_code == 201, response.text
    assert response.json()["phone"] == "+32470123456"


def test_bad_input_gets_a_clear_error_and_stores_nothing(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    cases = [
        ({"phone": "12"}, 400, "invalid_phone"),
        ({"phone": "bel me"}, 400, "invalid_phone"),
        ({"phone": "+31 6 1234"}, 400, "invalid_phone"),
        ({"phone": "0612345678\n"}, 400, "invalid_text"),
        ({"phone": "0612345678", "topic": "x" * 2001}, 422, "validation_error"),
        ({"phone": "0612345678", "name": "a\x00b"}, 400, "invalid_text"),
        ({"phone": "0612345678", "name": "Klaas\r\nBcc: x"}, 400, "invalid_text"),
        ({"phone": "0612345678", "topic": "a\x00b"}, 400, "invalid_text"),
        ({"phone": "0612345678", "email": "geen adres"}, 400, "invalid_address"),
        ({"phone": "0612345678", "unknown": 1}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"phone": 612345678}, 422, "validation_error"),
        ({"phone": "0612345678", "window": {"start": "2026-11-24T12:00:00", "end": "2026-11-24T13:00:00"}},
         422, "validation_error"),
        ({"phone": "0612345678", "window": {"start": "2026-11-24T13:00:00Z", "end": "2026-11-24T12:00:00Z"}},
         400, "invalid_window"),
        ({"phone": "0612345678", "window": {"start": "2020-01-01T12:00:00Z", "end": "2020-01-01T13:00:00Z"}},
         400, "invalid_window"),
        ({"phone": "0612345678", "conversation_id": 999999}, 404, "not_found"),
        ({"phone": "0612345678", "conversation_id": 2**70}, 404, "not_found"),
    ]
    for body, status, code in cases:
        response = client.post("/api/v1/callbacks", headers=tenant.headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"] == code, (body, response.text)
        assert response.json()["detail"]
    broken = client.post("/api/v1/callbacks", headers={**tenant.headers, "Content-Type": "application/json"},
                         content=b"{not json")
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_json"
    assert client.post("/api/v1/callbacks", json={"phone": "0612345678"}).status_code == 401
    assert _count(factory, Callback) == 0
    assert _count(factory, Conversation) == 0


def test_the_same_number_twice_returns_the_open_callback(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    first = client.post("/api/v1/callbacks", headers=tenant.headers, json={"phone": "0612345678"})
    again = client.post("/api/v1/callbacks", headers=tenant.headers, json={"phone": "+31612345678", "topic": "?"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert _count(factory, Callback) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_another_shops_callback_is_not_found(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    mine = client.post("/api/v1/callbacks", headers=tenant.headers, json={"phone": "0612345678"}).json()
    assert client.get(f"/api/v1/callbacks/{mine['id']}", headers=other_tenant.headers).status_code == 404
    attempt = client.post(f"/api/v1/callbacks/{mine['id']}/attempts", headers=other_tenant.headers,
                          json={"outcome": "reached"})
    assert attempt.status_code == 404 and attempt.json()["error"] == "not_found"
    assert client.get("/api/v1/callbacks", headers=other_tenant.headers).json()["items"] == []
    # The same number in another shop is another shop's call-back, not a duplicate.
    theirs = client.post("/api/v1/callbacks", headers=other_tenant.headers, json={"phone": "0612345678"})
    assert theirs.status_code == 201 and theirs.json()["id"] != mine["id"]
    conversation = post_message(client, other_tenant)["conversation_id"]
    foreign = client.post("/api/v1/callbacks", headers=tenant.headers,
                          json={"phone": "0687654321", "conversation_id": conversation})
    assert foreign.status_code == 404


def test_callback_from_a_conversation_joins_that_customer(client: TestClient, tenant: Tenant) -> None:
    message = post_message(client, tenant, customer={"email": "jan@example.nl", "name": "Jan"})
    response = client.post("/api/v1/callbacks", headers=tenant.headers,
                           json={"phone": "0612345678", "conversation_id": message["conversation_id"]})
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == message["customer_id"]
    customer = client.get(f"/api/v1/customers/{message['customer_id']}", headers=tenant.headers).json()
    assert ("phone", "+31612345678") in {(i["kind"], i["value"]) for i in customer["identities"]}
