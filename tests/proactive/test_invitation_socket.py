"""The widget socket's invitation frames: a checkout-hesitation rule shows exactly one
invitation, answers are confirmed, bad frames get an error and keep the socket open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from invitation_support import add_rule, reachable
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.channels.chat.models import ChatVisitor
from balie.conversations.models import Message
from balie.proactive.models import Invitation
from balie.shops.models import Shop
from factories import Tenant


@pytest.fixture
def connect(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> Iterator[Any]:
    with factory() as session:
        key = session.get_one(Shop, tenant.shop_id).public_key
    opened: list[Any] = []

    def open_socket(language: str = "nl") -> Any:
        manager = client.websocket_connect(f"/widget/ws?shop={key}", headers={"origin": "https://shop.example"})
        ws = manager.__enter__()
        opened.append(manager)
        ws.send_json({"type": "hello", "language": language})
        assert ws.receive_json()["type"] == "welcome"
        return ws

    yield open_socket
    for manager in opened:
        manager.__exit__(None, None, None)


def ping(ws: Any) -> list[dict[str, Any]]:
    """Everything the server sent before answering a ping: what the frames before it caused."""
    ws.send_json({"type": "ping"})
    frames = []
    while (frame := ws.receive_json())["type"] != "pong":
        frames.append(frame)
    return frames


def test_a_checkout_hesitation_rule_shows_exactly_one_invitation(
    connect: Any, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    reachable(factory, tenant)
    rule = add_rule(factory, tenant, "checkout_idle", "60", message_nl="Kan ik je helpen met je bestelling?")
    ws = connect()
    ws.send_json({"type": "page", "kind": "checkout", "url": "https://shop.example/checkout",
                  "checkout_step": "address", "cart_value": 89.95})
    ws.send_json({"type": "idle"})  # too early: the server measured no idle time yet
    assert ping(ws) == []

    frozen_clock.advance(seconds=61)
    ws.send_json({"type": "idle"})
    ws.send_json({"type": "idle"})
    ws.send_json({"type": "page", "kind": "checkout", "checkout_step": "address"})
    frames = ping(ws)

    invites = [frame for frame in frames if frame["type"] == "invite"]
    assert len(invites) == 1 and frames == invites
    invite = invites[0]
    assert invite["action"] == "chat" and invite["text"] == "Kan ik je helpen met je bestelling?"

    stranger = connect()  # another browser that reported no page: its idle asks for nothing
    stranger.send_json({"type": "idle"})
    assert ping(stranger) == []
    frozen_clock.advance(seconds=600)
    ws.send_json({"type": "idle"})
    assert ping(ws) == []

    ws.send_json({"type": "invitation", "id": invite["id"], "accepted": True})
    assert ws.receive_json() == {"type": "invitation", "id": invite["id"], "accepted": True}
    with factory() as session:
        shown = list(session.scalars(select(Invitation)))
        assert [(i.rule_id, i.accepted_at is not None) for i in shown] == [(rule, True)]


def test_the_visitors_answer_to_an_accepted_chat_invitation_is_linked(
    connect: Any, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    reachable(factory, tenant)
    add_rule(factory, tenant, "cart_value", "150", name="Grote mand", message_en="Questions about your order?")
    ws = connect(language="en")
    ws.send_json({"type": "page", "kind": "cart", "url": "https://shop.example/cart", "cart_value": 150})
    invite = ws.receive_json()
    assert invite["type"] == "invite" and invite["text"] == "Questions about your order?"
    ws.send_json({"type": "invitation", "id": invite["id"], "accepted": True})
    assert ws.receive_json()["accepted"] is True

    ws.send_json({"type": "message", "client_id": "c1", "text": "Yes: is shipping free?", "invitation": invite["id"]})
    assert ws.receive_json()["type"] == "ack"
    assert ping(ws) == []

    with factory() as session:
        invitation = session.scalars(select(Invitation)).one()
        visitor = session.scalars(select(ChatVisitor)).one()
        assert invitation.conversation_id == visitor.conversation_id is not None
        texts = list(session.scalars(select(Message.text).where(Message.conversation_id == visitor.conversation_id)
                                     .order_by(Message.id)))
        assert texts == ["Yes: is shipping free?",
                         "Uitnodiging ‘Grote mand’ aangenomen. De klant zag: Questions about your order?"]


def test_bad_invitation_frames_get_an_error_and_the_socket_stays_open(
    connect: Any, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    reachable(factory, tenant)
    add_rule(factory, tenant, "cart_value", "100")
    ws = connect()
    bad: list[tuple[dict[str, Any], str]] = [
        ({"type": "page", "kind": "order"}, "invalid_page"),
        ({"type": "page", "kind": "cart", "cart_value": "999"}, "invalid_page"),
        ({"type": "page", "kind": "page_view", "url": "x" * 2001}, "invalid_page"),
        ({"type": "invitation", "id": 1, "accepted": True}, "unknown_invitation"),  # none made yet
        ({"type": "invitation", "id": "1", "accepted": True}, "unknown_invitation"),
        ({"type": "invitation", "id": 1}, "invalid_invitation"),
    ]
    for frame, code in bad:
        ws.send_json(frame)
        error = ws.receive_json()
        assert error["type"] == "error" and error["error"] == code, (frame, error)

    other = connect()
    other.send_json({"type": "page", "kind": "cart", "cart_value": 500})
    invite = other.receive_json()
    ws.send_json({"type": "invitation", "id": invite["id"], "accepted": True})  # someone else's
    assert ws.receive_json()["error"] == "unknown_invitation"
    with factory() as session:
        assert session.scalars(select(Invitation.accepted_at)).one() is None


def test_page_events_are_rate_limited(
    connect: Any, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock
) -> None:
    ws = connect()
    for number in range(30):
        ws.send_json({"type": "page", "kind": "page_view", "url": f"https://shop.example/p/{number}"})
    assert ping(ws) == []
    ws.send_json({"type": "page", "kind": "page_view", "url": "https://shop.example/again"})
    error = ws.receive_json()
    assert error["type"] == "error" and error["error"] == "rate_limited"


def test_a_call_back_asked_from_an_accepted_call_back_invitation_is_counted_with_it(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    reachable(factory, tenant)
    add_rule(factory, tenant, "cart_value", "150", action="callback", name="Bel terug bij grote mand")
    with factory() as session:
        key = session.get_one(Shop, tenant.shop_id).public_key
    origin = {"origin": "https://shop.example"}
    with client.websocket_connect(f"/widget/ws?shop={key}", headers=origin) as ws:
        ws.send_json({"type": "hello", "language": "nl"})
        token = ws.receive_json()["token"]
        ws.send_json({"type": "page", "kind": "cart", "url": "https://shop.example/cart", "cart_value": 200})
        invite = ws.receive_json()
        assert invite["type"] == "invite" and invite["action"] == "callback"
        ws.send_json({"type": "invitation", "id": invite["id"], "accepted": True})
        assert ws.receive_json()["accepted"] is True

    url = f"/api/v1/public/shops/{key}/callbacks"
    # Someone else's browser naming this invitation: their call-back stands, the invitation is not theirs.
    stranger = client.post(url, json={"phone": "0201234567", "invitation": invite["id"]}, headers=origin)
    assert stranger.status_code == 201, stranger.text
    made_up = client.post(url, json={"phone": "0201234567", "invitation": 999_999},
                          headers={**origin, "X-Balie-Visitor": token})
    assert made_up.status_code == 201, made_up.text
    with factory() as session:
        assert session.scalars(select(Invitation)).one().callback_id is None

    asked = client.post(url, json={"phone": "020 765 4321", "name": "Sam", "invitation": invite["id"]},
                        headers={**origin, "X-Balie-Visitor": token})
    assert asked.status_code == 201, asked.text
    again = client.post(url, json={"phone": "020 765 4321", "invitation": invite["id"]},
                        headers={**origin, "X-Balie-Visitor": token})
    assert again.status_code == 201
    with factory() as session:
        assert session.scalars(select(Invitation)).one().callback_id == asked.json()["id"]  # the first, once
    bad = client.post(url, json={"phone": "020 765 4321", "invitation": "een"}, headers=origin)
    assert bad.status_code == 422 and bad.json()["error"]
