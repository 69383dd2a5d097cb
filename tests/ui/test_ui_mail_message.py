"""A received mail in the conversation page: the new text first, the whole message and the
original one click away, markers (auto-reply, held, …) visible."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.channels.email import service as mailbox_service
from balie.channels.email.inbound import receive
from factories import Tenant
from ui_support import sign_in

RAW = (b"From: Mira <mira@example.nl>\r\nTo: support@fietsen.example\r\nSubject: Fiets\r\n"
       b"Message-ID: <m1@example.nl>\r\nAuto-Submitted: auto-replied\r\n\r\n"
       b"Ik ben er morgen weer.\r\n\r\n"
       b"Op 3 nov. 2026 om 10:12 schreef Fietsenwinkel:\r\n> Uw fiets komt <b>morgen</b>\r\n")


def test_mail_shows_new_text_whole_message_original_and_flags(
    app: FastAPI, client: TestClient, factory: sessionmaker[Session], tenant: Tenant
) -> None:
    context = app.state.context
    with factory() as session, session.begin():
        mailbox = mailbox_service.create(session, shop_id=tenant.shop_id, address="support@fietsen.example")
        received = receive(session, mailbox=mailbox, raw=RAW, store=context.store, limiter=context.limiter,
                           hold_per_hour=20)
    sign_in(client, tenant)
    page = client.get(f"/inbox/c/{received.conversation_id}").text
    assert '<div class="message__text">Ik ben er morgen weer.</div>' in page
    assert "Uw fiets komt &lt;b&gt;morgen&lt;/b&gt;" in page  # the quoted part, folded and escaped
    assert 'data-flag="auto_reply"' in page
    raw_url = f"/ui/messages/{received.message_id}/raw"
    assert raw_url in page
    original = client.get(raw_url)
    assert original.status_code == 200 and original.content == RAW
    assert original.headers["content-disposition"].startswith("attachment")
    client.cookies.set("balie_lang", "en")
    english = client.get(f"/inbox/c/{received.conversation_id}").text
    assert "Auto-reply" in english and "Whole message" in english


def test_another_shops_original_is_not_found(client: TestClient, tenant: Tenant, other_tenant: Tenant,
                                             app: FastAPI, factory: sessionmaker[Session]) -> None:
    context = app.state.context
    with factory() as session, session.begin():
        mailbox = mailbox_service.create(session, shop_id=tenant.shop_id, address="support@fietsen.example")
        received = receive(session, mailbox=mailbox, raw=RAW, store=context.store, limiter=context.limiter,
                           hold_per_hour=20)
    sign_in(client, other_tenant)
    assert client.get(f"/ui/messages/{received.message_id}/raw").status_code == 404
