"""The widget's socket: a visitor's conversation, kept across reconnects, stored once per
client id, answered by an agent through the outbox, and nothing for anyone else."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from balie.channels.chat import service
from balie.channels.chat.models import WidgetSettings
from balie.shops.models import Shop
from factories import Tenant
from ui_support import sign_in


def public_key(factory: sessionmaker[Session], tenant: Tenant) -> str:
    with factory() as session:
        return session.get_one(Shop, tenant.shop_id).public_key


def widget_secret(factory: sessionmaker[Session], tenant: Tenant, **changes: Any) -> str:
    with factory() as session, session.begin():
        widget = service.settings_for(session, tenant.shop_id)
        for name, value in changes.items():
            setattr(widget, name, value)
        return widget.secret


class Visitor:
    """A browser's side of the socket."""

    def __init__(self, client: TestClient, key: str, *, origin: str = "https://shop.example") -> None:
        self.client, self.key, self.origin = client, key, origin

    def connect(self, token: str | None = None, customer: dict[str, Any] | None = None) -> Any:
        socket = self.client.websocket_connect(f"/widget/ws?shop={self.key}", headers={"origin": self.origin})
        ws = socket.__enter__()
        ws.send_json({"type": "hello", "token": token, "customer": customer, "language": "nl"})
        welcome = ws.receive_json()
        assert welcome["type"] == "welcome", welcome
        ws.welcome = welcome
        ws.context_manager = socket
        return ws


@pytest.fixture
def visitor(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> Iterator[Visitor]:
    yield Visitor(client, public_key(factory, tenant))


def close(ws: Any) -> None:
    ws.context_manager.__exit__(None, None, None)


def say(ws: Any, text: str, client_id: str) -> dict[str, Any]:
    ws.send_json({"type": "message", "client_id": client_id, "text": text})
    frame: dict[str, Any] = ws.receive_json()
    return frame


def test_a_visitor_chats_and_finds_the_conversation_again(
    visitor: Visitor, client: TestClient, tenant: Tenant
) -> None:
    ws = visitor.connect()
    token = ws.welcome["token"]
    assert ws.welcome["messages"] == []
    ack = say(ws, "Hoi, is de blauwe jas nog leverbaar?", "c1")
    assert ack["type"] == "ack" and ack["client_id"] == "c1"
    assert ack["message"]["text"] == "Hoi, is de blauwe jas nog leverbaar?"
    close(ws)

    listed = client.get("/api/v1/conversations?channel=chat", headers=tenant.headers).json()["items"]
    assert [item["preview"] for item in listed] == ["Hoi, is de blauwe jas nog leverbaar?"]

    again = visitor.connect(token)  # a reload, another page, a reopened tab
    assert again.welcome["token"] == token
    assert [m["text"] for m in again.welcome["messages"]] == ["Hoi, is de blauwe jas nog leverbaar?"]
    assert again.welcome["messages"][0]["client_id"] == "c1"
    close(again)


def test_a_message_sent_again_after_a_lost_connection_is_stored_once(
    visitor: Visitor, client: TestClient, tenant: Tenant
) -> None:
    ws = visitor.connect()
    first = say(ws, "Waar blijft mijn pakket?", "same-id")
    close(ws)
    ws = visitor.connect(ws.welcome["token"])
    second = say(ws, "Waar blijft mijn pakket?", "same-id")
    assert second["message"]["id"] == first["message"]["id"]
    assert [m["id"] for m in ws.welcome["messages"]] == [first["message"]["id"]]
    close(ws)
    conversation = client.get("/api/v1/conversations?channel=chat", headers=tenant.headers).json()["items"][0]
    detail = client.get(f"/api/v1/conversations/{conversation['id']}", headers=tenant.headers).json()
    assert [m["text"] for m in detail["messages"]] == ["Waar blijft mijn pakket?"]


def test_the_agents_reply_reaches_the_open_widget_through_the_outbox(
    app: Any, visitor: Visitor, client: TestClient, tenant: Tenant
) -> None:
    ws = visitor.connect()
    say(ws, "Hebben jullie maat 42?", "q1")
    conversation_id = client.get("/api/v1/conversations?channel=chat", headers=tenant.headers).json()["items"][0]["id"]
    note = client.post(f"/api/v1/conversations/{conversation_id}/notes", headers=tenant.headers,
                       json={"text": "intern: voorraad checken"})
    assert note.status_code == 201
    reply = client.post(f"/api/v1/conversations/{conversation_id}/replies", headers=tenant.headers,
                        json={"text": "Ja, maat 42 is er nog!"})
    assert reply.status_code == 202, reply.text
    assert app.state.worker.run_once() >= 1
    frame = ws.receive_json()
    assert frame["type"] == "message"
    assert frame["message"]["text"] == "Ja, maat 42 is er nog!"
    assert frame["message"]["direction"] == "out" and frame["message"]["author"] == "Ada"
    close(ws)
    # The history has the question and the answer; never the note, never the agent's e-mail.
    again = visitor.connect(ws.welcome["token"])
    assert [m["text"] for m in again.welcome["messages"]] == ["Hebben jullie maat 42?", "Ja, maat 42 is er nog!"]
    assert "@" not in str(again.welcome)
    close(again)


def test_a_signed_customer_token_links_the_chat_and_a_forged_one_does_not(
    visitor: Visitor, client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    secret = widget_secret(factory, tenant)
    expires = int(time.time()) + 600
    forged = {"id": "K-77", "email": "kees@example.nl", "expires": expires, "signature": "0" * 64}
    ws = visitor.connect(customer=forged)
    assert ws.welcome["verified"] is False
    assert ws.welcome["customer_problem"]["error"] == "invalid_customer_token"
    say(ws, "anoniem", "a1")
    close(ws)

    signed = {**forged, "signature": service.sign_claim(secret, "K-77", "kees@example.nl", expires)}
    ws = visitor.connect(customer=signed)
    assert ws.welcome["verified"] is True
    assert ws.welcome["messages"] == []  # the anonymous browser's chat is not the customer's
    say(ws, "ik ben Kees", "k1")
    close(ws)
    conversation = client.get("/api/v1/conversations?channel=chat&q=ik ben Kees", headers=tenant.headers).json()
    customer_id = conversation["items"][0]["customer_id"]
    identities = client.get(f"/api/v1/customers/{customer_id}", headers=tenant.headers).json()["identities"]
    assert {(i["kind"], i["value"]) for i in identities} >= {("external", "K-77"), ("email", "kees@example.nl")}

    # Logged out (no claim on the page): the same browser starts over and sees nothing of Kees.
    after = visitor.connect(ws.welcome["token"])
    assert after.welcome["token"] != ws.welcome["token"] and after.welcome["messages"] == []
    close(after)

    expired = {**signed, "expires": 1000, "signature": service.sign_claim(secret, "K-77", "kees@example.nl", 1000)}
    stale = visitor.connect(customer=expired)
    assert stale.welcome["verified"] is False
    assert stale.welcome["customer_problem"]["error"] == "expired_customer_token"
    close(stale)


def test_refused_origins_and_unknown_shops_are_closed(
    client: TestClient, visitor: Visitor, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    widget_secret(factory, tenant, allowed_origins="https://shop.example\nhttps://www.shop.example")
    allowed = visitor.connect()
    close(allowed)
    refusals = ((visitor.key, "https://evil.example", 4403), ("no-such-shop", "https://shop.example", 4404),
                ("x" * 500, "https://shop.example", None))
    for key, origin, code in refusals:
        with (pytest.raises(WebSocketDisconnect) as refused,
              client.websocket_connect(f"/widget/ws?shop={key}", headers={"origin": origin}) as ws):
            ws.send_json({"type": "hello"})
            ws.receive_json()
        if code is not None:
            assert refused.value.code == code


def test_bad_frames_get_clear_errors_and_the_socket_stays_open(visitor: Visitor) -> None:
    ws = visitor.connect()
    ws.send_text("{not json")
    assert ws.receive_json()["error"] == "malformed_frame"
    ws.send_text("x" * 40_000)
    assert ws.receive_json()["error"] == "malformed_frame"
    ws.send_json({"type": "message", "client_id": "c", "text": "a" * 5001})
    assert ws.receive_json()["error"] == "message_too_long"
    ws.send_json({"type": "message", "client_id": "", "text": "hoi"})
    assert ws.receive_json()["error"] == "invalid_client_id"
    ws.send_json({"type": "message", "client_id": "c", "text": 12})
    assert ws.receive_json()["error"] == "invalid_message"
    ws.send_json({"type": "launch"})
    assert ws.receive_json()["error"] == "unknown_frame"
    assert say(ws, "<script>alert(1)</script> nog steeds hier", "ok")["type"] == "ack"
    close(ws)


def test_a_flood_from_one_visitor_is_refused(visitor: Visitor) -> None:
    ws = visitor.connect()
    try:
        answers = [say(ws, f"spam {i}", f"s{i}") for i in range(35)]
    finally:
        close(ws)
    assert [a["type"] for a in answers].count("ack") == 30, answers[-1]
    assert {a.get("error") for a in answers[30:]} == {"rate_limited"}


def test_the_first_frame_must_be_hello(client: TestClient, visitor: Visitor) -> None:
    with client.websocket_connect(f"/widget/ws?shop={visitor.key}") as ws:
        ws.send_json({"type": "message", "client_id": "x", "text": "hoi"})
        assert ws.receive_json()["error"] == "hello_expected"


def test_a_disabled_widget_refuses_visitors(visitor: Visitor, client: TestClient, tenant: Tenant,
                                            factory: sessionmaker[Session]) -> None:
    widget_secret(factory, tenant, enabled=False)
    with (pytest.raises(WebSocketDisconnect) as refused,
          client.websocket_connect(f"/widget/ws?shop={visitor.key}") as ws):
        ws.send_json({"type": "hello"})
        ws.receive_json()
    assert refused.value.code == 4403
    with factory() as session:
        assert session.get_one(WidgetSettings, tenant.shop_id).enabled is False


def test_the_visitor_sees_when_an_agent_has_read_their_messages(
    visitor: Visitor, client: TestClient, tenant: Tenant
) -> None:
    ws = visitor.connect()
    try:
        message_id = say(ws, "Is er al iemand?", "r1")["message"]["id"]
        conversation_id = client.get("/api/v1/conversations?channel=chat",
                                     headers=tenant.headers).json()["items"][0]["id"]
        sign_in(client, tenant)
        assert client.get(f"/inbox/c/{conversation_id}").status_code == 200
        assert ws.receive_json() == {"type": "seen", "message_id": message_id}
    finally:
        close(ws)
    again = visitor.connect(ws.welcome["token"])
    assert again.welcome["agent_seen"] == message_id
    # With the conversation already open, the live refresh marks a new message seen too.
    later = say(again, "Nog een vraag", "r2")["message"]["id"]
    assert client.get(f"/ui/partials/conversation/{conversation_id}").status_code == 200
    assert again.receive_json() == {"type": "seen", "message_id": later}
    close(again)


def test_the_visitor_sees_the_agent_typing(visitor: Visitor, client: TestClient, tenant: Tenant) -> None:
    ws = visitor.connect()
    try:
        say(ws, "Hallo?", "t1")
        conversation_id = client.get("/api/v1/conversations?channel=chat",
                                     headers=tenant.headers).json()["items"][0]["id"]
        csrf = sign_in(client, tenant)
        refused = client.post(f"/inbox/c/{conversation_id}/typing")
        assert refused.status_code == 403
        typed = client.post(f"/inbox/c/{conversation_id}/typing", headers={"X-CSRF-Token": csrf})
        assert typed.status_code == 204
        assert ws.receive_json() == {"type": "typing", "author": "Ada"}
    finally:
        close(ws)


def test_many_first_widgets_of_a_new_shop_at_once_share_one_settings_row(
    factory: sessionmaker[Session], tenant: Tenant
) -> None:
    """The first sockets of a shop create its widget settings; at once, all must succeed."""
    barrier = threading.Barrier(8)

    def first_socket() -> str:
        with factory() as session:
            barrier.wait(timeout=10)
            secret = service.settings_for(session, tenant.shop_id).secret
            session.commit()
            return secret

    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = list(pool.map(lambda _: first_socket(), range(8)))
    assert len(set(secrets)) == 1
