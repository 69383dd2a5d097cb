"""Replies on the e-mail channel delivered through the outbox to a real SMTP server on loopback
(the install's relay, BALIE_SMTP_RELAY): headers, threading, retries, failures."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from smtp_sink import (
    CUSTOMER,
    SUPPORT,
    Sink,
    add_mailbox,
    external_id,
    message_state,
    receive_mail,
    reply,
    smtp_sink,
    update_mailbox,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.channels.base import adapter_for
from balie.channels.email.models import Mailbox
from balie.config import Settings
from balie.conversations.models import Attachment
from balie.customers.service import IdentityRef, normalise
from balie.outbox import dispatcher
from balie.outbox.models import OutboxEntry
from factories import Tenant
from servers import free_port

INBOUND_ID = "<first-question@klant.example>"


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sink: Sink) -> Settings:
    return dataclasses.replace(settings, smtp_relay=sink.url)


@pytest.fixture
def conversation_id(factory: sessionmaker[Session], tenant: Tenant) -> int:
    add_mailbox(factory, tenant, signature="Groet,\nFietsenwinkel Jansen\n020 123 4567")
    return receive_mail(factory, tenant, message_id=INBOUND_ID)


def parts(message: EmailMessage) -> dict[str, str]:
    """The text parts by type, with the wire's CRLF as plain newlines."""
    return {part.get_content_type(): part.get_content().replace("\r\n", "\n")
            for part in message.walk() if part.get_content_maintype() == "text"}


def test_a_reply_reaches_the_customer_threaded_and_signed(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
    conversation_id: int,
) -> None:
    message_id = reply(client, tenant, conversation_id, "Hij komt morgen!\n\nMet <b>spoed</b> & zorg.")
    assert app.state.worker.run_once() >= 1
    assert app.state.worker.run_once() == 0  # sent once, never again
    (received,) = sink.received
    assert received.mail_from == SUPPORT and received.rcpt_tos == [CUSTOMER]
    mail = received.message
    assert mail["From"] == f'Fietsenwinkel <{SUPPORT}>'
    assert mail["Reply-To"] == f'Fietsenwinkel <{SUPPORT}>'
    assert mail["To"] == f"Klaas Klant <{CUSTOMER}>"
    assert mail["Subject"] == f"Re: Mijn bestelling [#{conversation_id}]"
    assert mail["Message-ID"] == external_id(factory, message_id)
    assert mail["Message-ID"].endswith("@email.balie>")
    assert mail["In-Reply-To"] == INBOUND_ID
    assert mail["References"] == INBOUND_ID
    assert mail["Date"] is not None
    assert mail["X-Balie-Delivery"].startswith(f"balie-{tenant.shop_id}-")
    assert mail["Auto-Submitted"] is None  # a person wrote it
    assert mail.get_content_type() == "multipart/alternative"
    body = parts(mail)
    assert set(body) == {"text/plain", "text/html"}
    assert body["text/plain"].startswith("Hij komt morgen!\n\nMet <b>spoed</b> & zorg.\n\n-- \nGroet,\n")
    assert "Fietsenwinkel Jansen" in body["text/plain"]
    assert "<p>Hij komt morgen!</p>" in body["text/html"]
    assert "<p>Met &lt;b&gt;spoed&lt;/b&gt; &amp; zorg.</p>" in body["text/html"]
    assert "Groet,<br>\nFietsenwinkel Jansen" in body["text/html"]
    assert "<b>" not in body["text/html"]  # the agent's text is never markup
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "sent" and state["delivery_error"] is None


def test_later_replies_carry_the_whole_thread_and_one_re(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
    conversation_id: int,
) -> None:
    first = external_id(factory, reply(client, tenant, conversation_id, "Welke bestelling?"))
    app.state.worker.run_once()
    answer = "<second-question@klant.example>"
    assert receive_mail(factory, tenant, message_id=answer, text="Nummer 1234",
                        subject=f"Re: Mijn bestelling [#{conversation_id}]", references=[first, INBOUND_ID]
                        ) == conversation_id
    reply(client, tenant, conversation_id, "Dank je, hij is onderweg.")
    app.state.worker.run_once()
    mail = sink.received[1].message
    assert mail["Subject"] == f"Re: Mijn bestelling [#{conversation_id}]"
    assert mail["In-Reply-To"] == answer
    assert mail["References"].split() == [INBOUND_ID, first, answer]  # oldest first


def test_subject_keeps_one_re_and_only_this_conversations_number(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
) -> None:
    add_mailbox(factory, tenant)
    conversation_id = receive_mail(factory, tenant, message_id="<x@klant.example>",
                                   subject="RE: Antw: Retour [#77] aanvragen")
    reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    assert sink.received[0].message["Subject"] == f"Re: Retour aanvragen [#{conversation_id}]"


def test_the_customer_gets_it_at_the_address_they_last_wrote_from(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
) -> None:
    add_mailbox(factory, tenant)
    home, work = "klaas@thuis.example", "klaas@werk.example"
    identities = [normalise("email", home), normalise("email", work)]
    conversation_id = receive_mail(factory, tenant, message_id="<a@thuis.example>", identities=identities)
    reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    assert sink.received[0].rcpt_tos == [home]  # nothing tells us better: the first address known
    raw = f"From: Klaas <{work.upper()}>\r\nTo: {SUPPORT}\r\nSubject: Re\r\n\r\nVan mijn werk\r\n".encode()
    receive_mail(factory, tenant, message_id="<b@werk.example>", sender=work, raw=raw,
                 store=app.state.context.store, references=["<a@thuis.example>"])
    reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    assert sink.received[1].rcpt_tos == [work]
    assert sink.received[1].message["To"] == f"Klaas Klant <{work}>"


def test_attachments_of_the_reply_go_along(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
    conversation_id: int,
) -> None:
    message_id = reply(client, tenant, conversation_id, "De factuur zit erbij.")
    stored = app.state.context.store.save(b"%PDF-1.4 factuur")
    with factory() as session, session.begin():
        session.add(Attachment(shop_id=tenant.shop_id, message_id=message_id, filename="factuur 1234.pdf",
                               content_type="application/pdf", size=stored.size, sha256=stored.sha256,
                               path=stored.path))
    app.state.worker.run_once()
    mail = sink.received[0].message
    assert mail.get_content_type() == "multipart/mixed"
    (attachment,) = mail.iter_attachments()
    assert attachment.get_filename() == "factuur 1234.pdf"
    assert attachment.get_content() == b"%PDF-1.4 factuur"
    assert {"text/plain", "text/html"} <= set(parts(mail))


def test_a_temporary_refusal_at_data_is_retried_later(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, frozen_clock: clock.FrozenClock,
    conversation_id: int,
) -> None:
    sink.handler.data_answers = ["451 4.3.0 Try again later"]
    message_id = reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "queued"
    assert "451 4.3.0 Try again later (at DATA)" in state["delivery_error"]
    app.state.worker.run_once()
    assert sink.received == []  # backing off
    frozen_clock.advance(seconds=7)
    app.state.worker.run_once()
    assert len(sink.received) == 1
    assert message_state(client, tenant, conversation_id, message_id)["delivery_state"] == "sent"


def test_a_temporary_refusal_of_the_recipient_is_retried(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, frozen_clock: clock.FrozenClock,
    conversation_id: int,
) -> None:
    sink.handler.rcpt_answers = ["450 4.2.0 Greylisted, come back later"]
    message_id = reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "queued" and "450 4.2.0 Greylisted" in state["delivery_error"]
    frozen_clock.advance(seconds=7)
    app.state.worker.run_once()
    assert message_state(client, tenant, conversation_id, message_id)["delivery_state"] == "sent"


def test_a_permanent_refusal_fails_with_the_servers_words(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, frozen_clock: clock.FrozenClock,
    conversation_id: int,
) -> None:
    sink.handler.rcpt_answers = ["550 5.1.1 <klant@example.nl>: Recipient address rejected: User unknown"]
    message_id = reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed"
    assert "550 5.1.1 <klant@example.nl>: Recipient address rejected: User unknown" in state["delivery_error"]
    frozen_clock.advance(hours=2)
    assert app.state.worker.run_once() == 0
    assert sink.received == []


def test_a_permanent_refusal_at_data_fails(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, conversation_id: int,
) -> None:
    sink.handler.data_answers = ["554 5.7.1 Message rejected as spam"]
    message_id = reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed" and "554 5.7.1 Message rejected as spam" in state["delivery_error"]


def test_a_relay_that_is_down_is_retried_until_it_is_back(
    app: FastAPI, client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock, conversation_id: int,
) -> None:
    port = free_port()  # nothing listens here yet
    with factory() as session:
        mailbox_id = session.scalars(select(Mailbox.id)).one()
    update_mailbox(factory, mailbox_id, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    message_id = reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "queued" and "unreachable" in state["delivery_error"]
    with smtp_sink(port) as relay:
        frozen_clock.advance(seconds=7)
        app.state.worker.run_once()
        assert len(relay.received) == 1
    assert message_state(client, tenant, conversation_id, message_id)["delivery_state"] == "sent"


def test_a_customer_without_an_email_address_fails_with_the_reason(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
) -> None:
    add_mailbox(factory, tenant)
    conversation_id = receive_mail(factory, tenant, message_id="<p@klant.example>",
                                   identities=[normalise("phone", "0612345678")])
    message_id = reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed"
    assert state["delivery_error"] == "the customer has no e-mail address to send to"
    assert sink.received == []


def test_an_address_that_is_really_two_is_never_sent_to(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
) -> None:
    add_mailbox(factory, tenant)
    # The API channel's looser check lets this through as an identity; sending must not.
    hostile = IdentityRef("email", "klant@example.nl,baas@example.nl")
    conversation_id = receive_mail(factory, tenant, message_id="<h@klant.example>", identities=[hostile])
    message_id = reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed" and "cannot be sent to" in state["delivery_error"]
    assert sink.received == []


def test_a_worker_killed_after_the_relay_accepted_sends_the_same_message_id_once_more(
    app: FastAPI, client: TestClient, tenant: Tenant, sink: Sink, factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock, conversation_id: int,
) -> None:
    reply(client, tenant, conversation_id)
    # Worker A claims the entry and hands the mail to the relay, then dies before recording it.
    with factory() as session, session.begin():
        (entry_id,) = dispatcher._claim(session, 10)
    with factory() as session:
        delivery = dispatcher._delivery(session, session.get_one(OutboxEntry, entry_id))
        session.expunge_all()
    adapter = adapter_for("email")
    assert adapter is not None
    adapter.deliver(delivery)
    assert dispatcher.dispatch_once(factory) == []  # A's lease holds: nobody else sends it
    frozen_clock.advance(seconds=dispatcher.LEASE.total_seconds() + 1)
    assert [o.status for o in dispatcher.dispatch_once(factory)] == ["sent"]  # B: the one repeat
    frozen_clock.advance(hours=2)
    assert dispatcher.dispatch_once(factory) == []
    first, second = sink.received
    assert first.message["Message-ID"] == second.message["Message-ID"]  # recognisable as the same
    assert first.message["X-Balie-Delivery"] == second.message["X-Balie-Delivery"]
