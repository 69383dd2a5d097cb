"""The widget's public requests: a call-back and a message left for an answer by e-mail."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.channels.chat import service
from balie.shops.models import Shop
from factories import Tenant


@pytest.fixture
def key(factory: sessionmaker[Session], tenant: Tenant) -> str:
    with factory() as session:
        return session.get_one(Shop, tenant.shop_id).public_key


def visitor_token(client: TestClient, key: str, text: str | None = None) -> str:
    with client.websocket_connect(f"/widget/ws?shop={key}") as ws:
        ws.send_json({"type": "hello", "language": "nl"})
        token: str = ws.receive_json()["token"]
        if text:
            ws.send_json({"type": "message", "client_id": "first", "text": text})
            assert ws.receive_json()["type"] == "ack"
    return token


def test_a_visitor_asks_to_be_called_back(client: TestClient, tenant: Tenant, key: str) -> None:
    token = visitor_token(client, key, "Mijn fiets is kapot")
    answer = client.post(f"/api/v1/public/shops/{key}/callbacks", headers={"X-Balie-Visitor": token},
                         json={"phone": "06 12345678", "name": "Fien", "topic": "Garantie"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["phone"] == "+31612345678" and body["due_at"] and body["promise"]["nl"]
    queue = client.get("/api/v1/callbacks", headers=tenant.headers).json()["items"]
    assert [(item["id"], item["phone"]) for item in queue] == [(body["id"], "+31612345678")]
    # It belongs to the visitor's customer: the same person who chatted.
    chat = client.get("/api/v1/conversations?channel=chat", headers=tenant.headers).json()["items"][0]
    assert queue[0]["customer_id"] == chat["customer_id"]


def test_a_call_back_without_a_chat_first_still_has_a_customer(client: TestClient, tenant: Tenant,
                                                                key: str) -> None:
    answer = client.post(f"/api/v1/public/shops/{key}/callbacks", json={"phone": "+32 470 12 34 56"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["phone"] == "+32470123456"


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"phone": "bel me"}, 400, "invalid_phone"),
    ({"phone": "0612345678", "topic": "x" * 2001}, 422, "validation_error"),
    ({"phone": "0612345678", "admin": True}, 422, "validation_error"),
    ({}, 422, "validation_error"),
])
def test_bad_call_back_requests_are_refused_clearly(client: TestClient, tenant: Tenant, key: str,
                                                    body: dict[str, Any], status: int, error: str) -> None:
    answer = client.post(f"/api/v1/public/shops/{key}/callbacks", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error and answer.json()["detail"]
    assert client.get("/api/v1/callbacks", headers=tenant.headers).json()["items"] == []


def test_unknown_shops_refused_sites_and_floods(client: TestClient, tenant: Tenant, key: str,
                                                factory: sessionmaker[Session]) -> None:
    assert client.post("/api/v1/public/shops/nope/callbacks", json={"phone": "0612345678"}).status_code == 404
    with factory() as session, session.begin():
        service.settings_for(session, tenant.shop_id).allowed_origins = "https://shop.example"
    refused = client.post(f"/api/v1/public/shops/{key}/messages", headers={"Origin": "https://evil.example"},
                          json={"email": "a@example.nl", "text": "hoi", "client_id": "1"})
    assert refused.status_code == 403 and refused.json()["error"] == "origin_refused"
    allowed = client.post(f"/api/v1/public/shops/{key}/messages", headers={"Origin": "https://shop.example"},
                          json={"email": "a@example.nl", "text": "hoi", "client_id": "1"})
    assert allowed.status_code == 201
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    statuses = [client.post(f"/api/v1/public/shops/{key}/messages", headers={"Origin": "https://shop.example"},
                            json={"email": "a@example.nl", "text": "hoi", "client_id": str(i)}).status_code
                for i in range(12)]
    assert statuses.count(429) >= 3


def test_a_message_left_is_answered_by_email_and_stored_once(client: TestClient, tenant: Tenant, key: str) -> None:
    token = visitor_token(client, key, "eerst even chatten")
    left = {"email": "Nina@Example.nl", "name": "Nina", "text": "Kunnen jullie mij morgen mailen?", "client_id": "L1"}
    first = client.post(f"/api/v1/public/shops/{key}/messages", headers={"X-Balie-Visitor": token}, json=left)
    again = client.post(f"/api/v1/public/shops/{key}/messages", headers={"X-Balie-Visitor": token}, json=left)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == {"status": "received", "email": "nina@example.nl"}
    email = client.get("/api/v1/conversations?channel=email", headers=tenant.headers).json()["items"]
    assert [(c["preview"], c["customer_name"]) for c in email] == [("Kunnen jullie mij morgen mailen?", "Nina")]
    chat = client.get("/api/v1/conversations?channel=chat", headers=tenant.headers).json()["items"]
    # A typed address proves nothing: the browser's chat is not linked to that customer.
    assert chat[0]["customer_id"] != email[0]["customer_id"]


@pytest.mark.parametrize("body", [
    {"email": "geen-adres", "text": "hoi", "client_id": "1"},
    {"email": "a@example.nl", "text": "   ", "client_id": "1"},
    {"email": "a@example.nl", "text": "x" * 5001, "client_id": "1"},
    {"email": "a@example.nl", "text": "hoi"},
])
def test_bad_messages_are_refused(client: TestClient, tenant: Tenant, key: str, body: dict[str, Any]) -> None:
    answer = client.post(f"/api/v1/public/shops/{key}/messages", json=body)
    assert 400 <= answer.status_code < 500 and answer.json()["detail"]
    assert client.get("/api/v1/conversations?status=all", headers=tenant.headers).json()["items"] == []
