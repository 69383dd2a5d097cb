"""POST /api/v1/messages: the generic API channel, including everything that can go wrong."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from factories import Tenant, post_message


def test_new_message_creates_customer_and_conversation(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/messages",
        json={"customer": {"email": "Klant@Example.nl", "name": "Klaas"}, "subject": "Levering",
              "text": "Waar is mijn pakket?", "external_id": "m-1"},
        headers=tenant.headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"conversation_id", "message_id", "customer_id"}
    conversation = client.get(f"/api/v1/conversations/{body['conversation_id']}", headers=tenant.headers).json()
    assert conversation["subject"] == "Levering"
    assert conversation["channel"] == "api"
    assert conversation["status"] == "open"
    assert conversation["customer_name"] == "Klaas"
    assert [m["text"] for m in conversation["messages"]] == ["Waar is mijn pakket?"]
    customer = client.get(f"/api/v1/customers/{body['customer_id']}", headers=tenant.headers).json()
    assert {"kind": "email", "value": "klant@example.nl"} in customer["identities"]


def test_same_external_id_is_one_message(client: TestClient, tenant: Tenant) -> None:
    first = client.post("/api/v1/messages", headers=tenant.headers,
                        json={"customer": {"email": "a@example.nl"}, "text": "Hoi", "external_id": "dup"})
    again = client.post("/api/v1/messages", headers=tenant.headers,
                        json={"customer": {"email": "a@example.nl"}, "text": "Hoi", "external_id": "dup"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    conversation = client.get(f"/api/v1/conversations/{first.json()['conversation_id']}",
                              headers=tenant.headers).json()
    assert len(conversation["messages"]) == 1


def test_second_message_threads_into_open_conversation(client: TestClient, tenant: Tenant) -> None:
    first = post_message(client, tenant, text="Eerste vraag")
    second = post_message(client, tenant, text="Nog een vraag")
    assert first["conversation_id"] == second["conversation_id"]
    assert first["message_id"] != second["message_id"]


def test_phone_is_stored_in_e164(client: TestClient, tenant: Tenant) -> None:
    body = post_message(client, tenant, customer={"phone": "06 1234 5678"})
    again = post_message(client, tenant, customer={"phone": "+31612345678"}, text="weer ik")
    assert body["customer_id"] == again["customer_id"]
    customer = client.get(f"/api/v1/customers/{body['customer_id']}", headers=tenant.headers).json()
    assert customer["identities"] == [{"kind": "phone", "value": "+31612345678"}]


def test_requires_a_token(client: TestClient) -> None:
    response = client.post("/api/v1/messages", json={"customer": {"email": "a@b.nl"}, "text": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    wrong = client.get("/api/v1/conversations", headers={"Authorization": "Bearer blt_nope"})
    assert wrong.status_code == 401


# --- bad input: a clear 4xx JSON error, never a 500, nothing half-written ----------------

BAD_BODIES = [
    ("malformed json", b'{"customer": {"email": "a@b.nl"}, "text": ', 400, "invalid_json"),
    ("invalid utf-8", b'{"customer": {"email": "a@b.nl"}, "text": "\xff\xfe"}', 400, None),
    ("not an object", b'["a", "b"]', 422, "validation_error"),
    ("missing text", b'{"customer": {"email": "a@b.nl"}}', 422, "validation_error"),
    ("missing customer", b'{"text": "hoi"}', 422, "validation_error"),
    ("wrong type", b'{"customer": {"email": "a@b.nl"}, "text": 42}', 422, "validation_error"),
    ("customer wrong type", b'{"customer": "a@b.nl", "text": "hoi"}', 422, "validation_error"),
    ("unknown field", b'{"customer": {"email": "a@b.nl"}, "text": "hoi", "admin": true}', 422, "validation_error"),
    ("no identity", b'{"customer": {"name": "Anon"}, "text": "hoi"}', 400, "customer_unidentified"),
    ("bad email", b'{"customer": {"email": "not-an-address"}, "text": "hoi"}', 400, "invalid"),
    ("bad phone", b'{"customer": {"phone": "call me maybe"}, "text": "hoi"}', 400, "invalid"),
    ("empty text", b'{"customer": {"email": "a@b.nl"}, "text": "   "}', 400, "empty_message"),
    ("nul byte", b'{"customer": {"email": "a@b.nl"}, "text": "a\\u0000b"}', 400, "invalid_text"),
    ("deep nesting", b'{"customer": {"email": "a@b.nl"}, "text": "x", "extra": ' + b"[" * 100_000
     + b"]" * 100_000 + b"}", 400, None),
]


def test_bad_input_gets_a_clear_error_and_stores_nothing(client: TestClient, tenant: Tenant) -> None:
    for name, raw, status, code in BAD_BODIES:
        response = client.post("/api/v1/messages", content=raw, headers={
            **tenant.headers, "Content-Type": "application/json"})
        assert response.status_code == status, (name, response.status_code, response.text)
        body = response.json()
        assert set(body) >= {"error", "detail"}, name
        assert body["detail"], name
        if code:
            assert body["error"] == code, (name, body)
    listing = client.get("/api/v1/conversations?status=all", headers=tenant.headers).json()
    assert listing["items"] == []


def test_text_over_one_megabyte_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/api/v1/messages", headers=tenant.headers,
                           json={"customer": {"email": "a@b.nl"}, "text": "é" * (600 * 1024)})
    assert response.status_code == 413
    assert response.json()["error"] == "text_too_large"


def test_huge_body_is_refused_before_parsing(client: TestClient, tenant: Tenant) -> None:
    huge = json.dumps({"customer": {"email": "a@b.nl"}, "text": "x" * (3 * 1024 * 1024)})
    response = client.post("/api/v1/messages", content=huge,
                           headers={**tenant.headers, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_hostile_html_in_text_is_kept_as_text(client: TestClient, tenant: Tenant) -> None:
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    body = post_message(client, tenant, text=payload)
    conversation = client.get(f"/api/v1/conversations/{body['conversation_id']}", headers=tenant.headers).json()
    message = conversation["messages"][0]
    assert message["text"] == payload  # the API returns what the customer typed, as text
    assert message["html"] is None


def test_duplicate_arriving_in_the_race_window_is_still_one_message(
    client: TestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two deliveries of one message at the same moment: both pass the dedupe lookup, the
    database's unique key stops the second, and it answers with the first one's ids."""
    from balie.conversations import ingest as ingest_module

    first = post_message(client, tenant, external_id="race-1")
    real = ingest_module.find_duplicate
    calls: list[int] = []

    def blind_once(session, inbound):  # type: ignore[no-untyped-def]
        calls.append(1)
        return None if len(calls) == 1 else real(session, inbound)

    monkeypatch.setattr(ingest_module, "find_duplicate", blind_once)
    response = client.post("/api/v1/messages", headers=tenant.headers,
                           json={"customer": {"email": "klant@example.nl"}, "text": "Hallo!", "external_id": "race-1"})
    assert response.status_code == 200, response.text
    assert response.json() == first
    conversation = client.get(f"/api/v1/conversations/{first['conversation_id']}", headers=tenant.headers).json()
    assert len(conversation["messages"]) == 1


def test_messages_arriving_together_thread_into_one_conversation(client: TestClient, tenant: Tenant) -> None:
    """Eight messages of one customer at the same moment: one conversation, every one counted."""
    import threading

    start = threading.Barrier(8)
    answers: list[int] = []

    def send(index: int) -> None:
        start.wait(timeout=10)
        response = client.post("/api/v1/messages", headers=tenant.headers, json={
            "customer": {"email": "haast@example.nl"}, "text": f"bericht {index}", "external_id": f"burst-{index}"})
        answers.append(response.status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [201] * 8
    listing = client.get("/api/v1/conversations?status=all", headers=tenant.headers).json()["items"]
    assert len(listing) == 1
    assert listing[0]["message_count"] == 8
    detail = client.get(f"/api/v1/conversations/{listing[0]['id']}", headers=tenant.headers).json()
    assert sorted(m["text"] for m in detail["messages"]) == sorted(f"bericht {i}" for i in range(8))
