"""Recording each try: reached and wrong number close a call-back, no answer schedules the next
try and, after the shop's number of tries, tells the customer on a channel that can reach them.
The queue is ordered by due time with broken promises marked; the timeline shows it all."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.audit.models import AuditEvent
from balie.channels.chat.models import WidgetSettings
from balie.conversations.models import Conversation, Message
from balie.shops.models import Shop
from factories import Tenant, post_message


def _ask(client: TestClient, tenant: Tenant, phone: str = "0612345678", **body: object) -> dict[str, object]:
    response = client.post("/api/v1/callbacks", headers=tenant.headers, json={"phone": phone, **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _try(client: TestClient, tenant: Tenant, callback_id: object, outcome: str, **body: object) -> dict[str, object]:
    response = client.post(f"/api/v1/callbacks/{callback_id}/attempts", headers=tenant.headers,
                           json={"outcome": outcome, **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _messages(factory: sessionmaker[Session], conversation_id: object) -> list[Message]:
    with factory() as session:
        return list(session.scalars(select(Message).where(Message.conversation_id == conversation_id)
                                    .order_by(Message.id)))


def test_reached_closes_it_and_resolves_its_conversation(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    callback = _ask(client, tenant)
    frozen_clock.advance(minutes=10)
    done = _try(client, tenant, callback["id"], "reached", note="Pakket komt morgen")
    assert done["status"] == "reached" and done["attempts"] == 1
    assert done["closed_at"] == "2026-11-24T10:10:00Z"
    assert [(h["outcome"], h["note"], h["agent_id"]) for h in done["history"]] == [
        ("reached", "Pakket komt morgen", tenant.agent_id)]
    notes = [m for m in _messages(factory, callback["conversation_id"]) if m.direction == "note"]
    assert len(notes) == 1 and "bereikt" in notes[0].text and "Pakket komt morgen" in notes[0].text
    with factory() as session:
        assert session.get_one(Conversation, callback["conversation_id"]).status == "resolved"
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "callback.attempt")).one()
        assert audit.data["status"] == ["open", "reached"] and audit.actor_agent_id == tenant.agent_id
    again = client.post(f"/api/v1/callbacks/{callback['id']}/attempts", headers=tenant.headers,
                        json={"outcome": "no_answer"})
    assert again.status_code == 409 and again.json()["error"] == "callback_closed"
    # Closed: the number may ask again, and gets a new call-back.
    assert _ask(client, tenant)["id"] != callback["id"]


def test_wrong_number_closes_it(client: TestClient, tenant: Tenant) -> None:
    callback = _ask(client, tenant)
    closed = _try(client, tenant, callback["id"], "wrong_number")
    assert closed["status"] == "wrong_number" and closed["closed_at"] is not None
    queue = client.get("/api/v1/callbacks", headers=tenant.headers).json()
    assert queue["items"] == []
    assert [i["id"] for i in client.get("/api/v1/callbacks?status=wrong_number", headers=tenant.headers)
            .json()["items"]] == [callback["id"]]


def test_bad_attempts_are_refused(client: TestClient, tenant: Tenant) -> None:
    callback = _ask(client, tenant)
    url = f"/api/v1/callbacks/{callback['id']}/attempts"
    for body, status in [({"outcome": "maybe"}, 422), ({}, 422), ({"outcome": "reached", "note": "x" * 2001}, 422),
                         ({"outcome": "reached", "note": "a\x00b"}, 400)]:
        response = client.post(url, headers=tenant.headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert set(response.json()) >= {"error", "detail"}
    assert client.post("/api/v1/callbacks/999999/attempts", headers=tenant.headers,
                       json={"outcome": "reached"}).status_code == 404
    assert client.get(f"/api/v1/callbacks/{callback['id']}", headers=tenant.headers).json()["attempts"] == 0


def test_no_answer_retries_then_gives_up_and_messages_the_customer(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock
) -> None:
    with factory() as session, session.begin():
        session.add(WidgetSettings(shop_id=tenant.shop_id, secret="s" * 32, callback_attempts=2))
        session.get_one(Shop, tenant.shop_id).webhook_url = "https://shop.example/balie"
    # The customer wrote before through the API channel, which can send (to the shop's webhook).
    earlier = post_message(client, tenant, customer={"email": "klaas@example.nl", "phone": "+31612345678"})
    callback = _ask(client, tenant, name="Klaas")
    assert callback["customer_id"] == earlier["customer_id"] and callback["max_attempts"] == 2
    frozen_clock.advance(minutes=40)
    retry = _try(client, tenant, callback["id"], "no_answer")
    assert retry["status"] == "open" and retry["attempts"] == 1
    assert retry["due_at"] == "2026-11-24T11:10:00Z"  # 30 minutes after the try
    assert retry["overdue"] is False
    assert not [m for m in _messages(factory, earlier["conversation_id"]) if m.direction == "out"]

    frozen_clock.advance(minutes=31)
    assert client.get(f"/api/v1/callbacks/{callback['id']}", headers=tenant.headers).json()["overdue"] is True
    given_up = _try(client, tenant, callback["id"], "no_answer")
    assert given_up["status"] == "gave_up" and given_up["attempts"] == 2
    sent = [m for m in _messages(factory, earlier["conversation_id"]) if m.direction == "out"]
    assert len(sent) == 1 and sent[0].delivery_state == "queued"
    assert "Hallo Klaas" in sent[0].text and "2 keer" in sent[0].text and "+31612345678" in sent[0].text
    notes = [m.text for m in _messages(factory, callback["conversation_id"]) if m.direction == "note"]
    assert len(notes) == 2 and "poging 1 van 2" in notes[0] and "krijgt een bericht" in notes[1]


def test_giving_up_without_a_way_to_write_leaves_a_note(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    callback = _ask(client, tenant, language="en")
    for _ in range(3):
        last = _try(client, tenant, callback["id"], "no_answer")
    assert last["status"] == "gave_up" and last["attempts"] == 3
    messages = _messages(factory, callback["conversation_id"])
    assert not [m for m in messages if m.direction == "out"]
    assert "geen e-mail of chat" in messages[-1].text
    with factory() as session:
        assert session.scalars(select(Message).where(Message.direction == "out")).first() is None
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "callback.attempt")
                                .order_by(AuditEvent.id)).all()
        assert audit[-1].data["told_in"] is None and audit[-1].data["status"] == ["open", "gave_up"]


def test_the_queue_is_ordered_by_due_time_and_marks_broken_promises(
    client: TestClient, tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    later = _ask(client, tenant, "0611111111",
                 window={"start": "2026-11-24T16:00:00+01:00", "end": "2026-11-24T17:00:00+01:00"})
    soon = _ask(client, tenant, "0622222222")
    frozen_clock.advance(minutes=5)
    next_one = _ask(client, tenant, "0633333333")
    frozen_clock.advance(minutes=31)  # the first promise (10:30) is broken, the second (10:35) too
    page = client.get("/api/v1/callbacks?limit=2", headers=tenant.headers).json()
    assert [i["id"] for i in page["items"]] == [soon["id"], next_one["id"]]
    assert [i["overdue"] for i in page["items"]] == [True, True]
    assert page["items"][0]["customer_name"] == "+31622222222"
    rest = client.get(f"/api/v1/callbacks?limit=2&cursor={page['next_cursor']}", headers=tenant.headers).json()
    assert [i["id"] for i in rest["items"]] == [later["id"]] and rest["next_cursor"] is None
    assert rest["items"][0]["overdue"] is False
    bad = client.get("/api/v1/callbacks?cursor=nonsense", headers=tenant.headers)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_cursor"
    assert client.get("/api/v1/callbacks?status=done", headers=tenant.headers).json()["error"] == "invalid_filter"


def test_the_callback_and_its_outcome_are_in_the_customers_timeline(
    client: TestClient, tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    callback = _ask(client, tenant, topic="Retour")
    frozen_clock.advance(minutes=3)
    _try(client, tenant, callback["id"], "no_answer", note="voicemail")
    customer = client.get(f"/api/v1/customers/{callback['customer_id']}", headers=tenant.headers).json()
    entries = [e for e in customer["timeline"] if e["type"] == "callback"]
    assert len(entries) == 1
    assert entries[0]["at"] == "2026-11-24T10:03:00Z"
    assert entries[0]["callback"]["id"] == callback["id"] and entries[0]["callback"]["topic"] == "Retour"
    assert [(h["outcome"], h["note"]) for h in entries[0]["callback"]["history"]] == [("no_answer", "voicemail")]
    assert {e["type"] for e in customer["timeline"]} == {"callback", "conversation"}


def test_a_merge_takes_the_callbacks_along(client: TestClient, tenant: Tenant) -> None:
    callback = _ask(client, tenant)
    mail = post_message(client, tenant, customer={"email": "jan@example.nl"})
    merged = client.post(f"/api/v1/customers/{mail['customer_id']}/merge", headers=tenant.headers,
                         json={"other_id": callback["customer_id"]})
    assert merged.status_code == 200
    assert [e["callback"]["id"] for e in merged.json()["timeline"] if e["type"] == "callback"] == [callback["id"]]
    assert client.get(f"/api/v1/callbacks/{callback['id']}", headers=tenant.headers).json()["customer_id"] == \
        mail["customer_id"]


def test_no_webhook_and_no_mailbox_means_the_customer_cannot_be_told(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    earlier = post_message(client, tenant, customer={"email": "klaas@example.nl", "phone": "+31612345678"})
    callback = _ask(client, tenant)
    for _ in range(3):
        last = _try(client, tenant, callback["id"], "no_answer")
    assert last["status"] == "gave_up"
    assert not [m for m in _messages(factory, earlier["conversation_id"]) if m.direction == "out"]
    assert "geen e-mail of chat" in _messages(factory, callback["conversation_id"])[-1].text
