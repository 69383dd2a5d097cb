"""On chat, the automatic acknowledgement appears in the visitor's open widget, as Balie's
(no agent's name), and stays in the history."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.shops.models import Shop
from balie.sla import acknowledgement_settings
from factories import Tenant

# Chat promises 2 minutes; this shop has no opening hours, so they count around the clock.
TIMED_NL = re.compile(r"We hebben je bericht ontvangen\. Je hoort uiterlijk (vandaag|morgen) om \d\d:\d\d van ons\.")


def test_the_acknowledgement_reaches_the_open_widget(app: Any, client: TestClient, tenant: Tenant,
                                                     factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        key = session.get_one(Shop, tenant.shop_id).public_key
        acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel="chat", on=True,
                                             actor_agent_id=None)
    with client.websocket_connect(f"/widget/ws?shop={key}") as ws:
        ws.send_json({"type": "hello", "language": "nl"})
        token = ws.receive_json()["token"]
        ws.send_json({"type": "message", "client_id": "q1", "text": "Hebben jullie maat 42 nog?"})
        assert ws.receive_json()["type"] == "ack"

        assert app.state.worker.run_once() >= 1  # the message job stores and queues it
        assert app.state.worker.run_once() >= 1  # the outbox tells the widget

        frame = ws.receive_json()
        assert frame["type"] == "message" and TIMED_NL.fullmatch(frame["message"]["text"])
        assert frame["message"]["direction"] == "out" and frame["message"]["author"] is None
    with client.websocket_connect(f"/widget/ws?shop={key}") as ws:
        ws.send_json({"type": "hello", "token": token, "language": "nl"})
        welcome = ws.receive_json()
        texts = [m["text"] for m in welcome["messages"]]
        assert texts[0] == "Hebben jullie maat 42 nog?" and TIMED_NL.fullmatch(texts[1]) and len(texts) == 2
