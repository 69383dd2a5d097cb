"""The automatic acknowledgement on the e-mail channel reaches the customer through a real SMTP
server on loopback: a reply in their thread, marked as automatic so that their out-of-office
does not answer it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from smtp_sink import CUSTOMER, SUPPORT, Sink, add_mailbox, receive_mail, smtp_sink
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.config import Settings
from balie.sla import acknowledgement_settings
from factories import Tenant

INBOUND_ID = "<waar-is-mijn-fiets@klant.example>"


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: Sink) -> Settings:
    return dataclasses.replace(settings, smtp_relay=sink.url)


def test_the_acknowledgement_is_mailed_in_the_thread(app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink,
                                                     factory: sessionmaker[Session],
                                                     frozen_clock: clock.FrozenClock) -> None:
    add_mailbox(factory, tenant)
    with factory() as session, session.begin():
        acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel="email", on=True,
                                             actor_agent_id=None)
    conversation_id = receive_mail(factory, tenant, message_id=INBOUND_ID,
                                   text="Waar blijft mijn fiets? Ik heb hem vorige week besteld.")

    app.state.worker.run_once()  # the message job: stores and queues the acknowledgement
    app.state.worker.run_once()  # the outbox: sends it
    assert app.state.worker.run_once() == 0

    (received,) = sink.received
    assert received.mail_from == SUPPORT and received.rcpt_tos == [CUSTOMER]
    mail = received.message
    assert mail["In-Reply-To"] == INBOUND_ID and mail["References"] == INBOUND_ID
    assert mail["Subject"] == f"Re: Mijn bestelling [#{conversation_id}]"
    assert mail["Auto-Submitted"] == "auto-replied"  # RFC 3834: no out-of-office ping-pong
    text = next(part.get_content() for part in mail.walk() if part.get_content_type() == "text/plain")
    # E-mail promises 24 hours; with no opening hours that is this time tomorrow.
    assert re.match(r"We hebben je bericht ontvangen\. Je hoort uiterlijk morgen om \d\d:\d\d van ons\.", text)
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    [ack] = [message for message in detail["messages"] if message["direction"] == "out"]
    assert ack["delivery_state"] == "sent" and ack["flags"] == ["acknowledgement"]
    assert detail["status"] == "open"  # still waiting for an agent's answer
