"""Which relay a reply goes through, and how we talk to it: the mailbox's own relay (with a
login, over TLS or STARTTLS), the install's BALIE_SMTP_RELAY, or none at all."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from smtp_sink import (
    SUPPORT,
    add_mailbox,
    message_state,
    receive_mail,
    reply,
    self_signed_certificate,
    smtp_sink,
)
from sqlalchemy.orm import Session, sessionmaker

from balie.app import create_app
from balie.config import Settings
from factories import Tenant, make_tenant
from servers import free_port


@pytest.fixture
def install_relay(settings: Settings) -> Iterator[tuple[FastAPI, TestClient, int]]:
    """An app whose BALIE_SMTP_RELAY is a loopback port, given back with that port."""
    port = free_port()
    application = create_app(dataclasses.replace(settings, smtp_relay=f"smtp://127.0.0.1:{port}"),
                             run_worker=False)
    with TestClient(application) as test_client:
        yield application, test_client, port
    application.state.context.engine.dispose()


def test_the_mailboxs_own_relay_with_a_login_wins_over_the_installs(
    install_relay: tuple[FastAPI, TestClient, int],
) -> None:
    application, test_client, _nobody_listens = install_relay
    factory = application.state.context.factory
    tenant = make_tenant(factory)
    with smtp_sink(users={"winkel": "geheim wachtwoord"}) as relay:
        add_mailbox(factory, tenant, smtp_host=relay.host, smtp_port=relay.port, smtp_security="none",
                    smtp_user="winkel", smtp_password="geheim wachtwoord")
        conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>")
        message_id = reply(test_client, tenant, conversation_id)
        application.state.worker.run_once()
    (received,) = relay.received
    assert received.login == "winkel" and received.mail_from == SUPPORT
    assert message_state(test_client, tenant, conversation_id, message_id)["delivery_state"] == "sent"


def test_a_refused_login_fails_with_the_relays_answer(
    app: FastAPI, client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
) -> None:
    with smtp_sink(users={"winkel": "geheim"}) as relay:
        add_mailbox(factory, tenant, smtp_host=relay.host, smtp_port=relay.port, smtp_security="none",
                    smtp_user="winkel", smtp_password="fout")
        conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>")
        message_id = reply(client, tenant, conversation_id)
        app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed"
    assert "535" in state["delivery_error"] and "(at login)" in state["delivery_error"]
    assert "fout" not in state["delivery_error"]  # the password is never shown


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server context for 127.0.0.1 whose certificate this process trusts."""
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls_relays_with_a_checked_certificate(
    app: FastAPI, client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
    certificate: ssl.SSLContext, security: str,
) -> None:
    server = {"tls": certificate} if security == "tls" else {"starttls": certificate}
    with smtp_sink(**server) as relay:
        add_mailbox(factory, tenant, smtp_host=relay.host, smtp_port=relay.port, smtp_security=security)
        conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>")
        message_id = reply(client, tenant, conversation_id)
        app.state.worker.run_once()
    assert len(relay.received) == 1
    assert message_state(client, tenant, conversation_id, message_id)["delivery_state"] == "sent"


def test_an_untrusted_certificate_is_not_sent_to(
    app: FastAPI, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], tmp_path: Path,
) -> None:
    cert, key = self_signed_certificate(tmp_path)  # not trusted: SSL_CERT_FILE is not set
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with smtp_sink(starttls=context) as relay:
        add_mailbox(factory, tenant, smtp_host=relay.host, smtp_port=relay.port, smtp_security="starttls")
        conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>")
        message_id = reply(client, tenant, conversation_id)
        app.state.worker.run_once()
    assert relay.received == []
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "queued" and "certificate" in state["delivery_error"].lower()


def test_without_any_relay_the_reply_fails_with_the_reason(
    app: FastAPI, client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
) -> None:
    add_mailbox(factory, tenant)
    conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>")
    message_id = reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed"
    assert state["delivery_error"] == f"no SMTP relay configured for {SUPPORT}"


def test_without_a_mailbox_there_is_no_address_to_send_from(
    app: FastAPI, client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
) -> None:
    conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>", to=None)
    message_id = reply(client, tenant, conversation_id)
    app.state.worker.run_once()
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed" and "no support address" in state["delivery_error"]


def test_the_installs_relay_serves_mailboxes_without_their_own(
    install_relay: tuple[FastAPI, TestClient, int],
) -> None:
    application, test_client, port = install_relay
    factory = application.state.context.factory
    tenant = make_tenant(factory)
    add_mailbox(factory, tenant)
    conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>")
    with smtp_sink(port) as relay:
        message_id = reply(test_client, tenant, conversation_id)
        application.state.worker.run_once()
    assert len(relay.received) == 1
    assert message_state(test_client, tenant, conversation_id, message_id)["delivery_state"] == "sent"


def test_an_unusable_install_relay_is_a_clear_failure(settings: Settings) -> None:
    application = create_app(dataclasses.replace(settings, smtp_relay="http://relay.example"), run_worker=False)
    try:
        with TestClient(application) as test_client:
            factory = application.state.context.factory
            tenant = make_tenant(factory)
            add_mailbox(factory, tenant)
            conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>")
            message_id = reply(test_client, tenant, conversation_id)
            application.state.worker.run_once()
            state = message_state(test_client, tenant, conversation_id, message_id)
    finally:
        application.state.context.engine.dispose()
    assert state["delivery_state"] == "failed" and state["delivery_error"].startswith("BALIE_SMTP_RELAY")


def test_a_shops_relay_at_an_internal_address_is_refused_at_delivery(settings: Settings) -> None:
    # Saved while it pointed elsewhere (the mailbox API checks too); now it resolves inward.
    application = create_app(dataclasses.replace(settings, webhook_allow_private=False), run_worker=False)
    try:
        with TestClient(application) as test_client, smtp_sink() as relay:
            factory = application.state.context.factory
            tenant = make_tenant(factory)
            add_mailbox(factory, tenant, smtp_host=relay.host, smtp_port=relay.port, smtp_security="none")
            conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>")
            message_id = reply(test_client, tenant, conversation_id)
            application.state.worker.run_once()
            state = message_state(test_client, tenant, conversation_id, message_id)
            assert relay.received == []
    finally:
        application.state.context.engine.dispose()
    assert state["delivery_state"] == "failed"
    assert state["delivery_error"] == "SMTP relay refused: the host 127.0.0.1 is an internal address (127.0.0.1)"


@pytest.mark.parametrize(("relay_settings", "reason"), [
    ({"smtp_security": "starttls"}, "STARTTLS extension not supported"),
    ({"smtp_security": "none", "smtp_user": "winkel", "smtp_password": "geheim"}, "AUTH extension is not supported"),
])
def test_a_relay_that_does_not_offer_what_the_settings_need_fails_at_once(
    app: FastAPI, client: TestClient, tenant: Tenant, factory: sessionmaker[Session],
    relay_settings: dict[str, str], reason: str,
) -> None:
    with smtp_sink() as relay:  # plain, and without TLS it offers no AUTH either
        add_mailbox(factory, tenant, smtp_host=relay.host, smtp_port=relay.port, **relay_settings)
        conversation_id = receive_mail(factory, tenant, message_id="<q@klant.example>")
        message_id = reply(client, tenant, conversation_id)
        app.state.worker.run_once()
    assert relay.received == []
    state = message_state(client, tenant, conversation_id, message_id)
    assert state["delivery_state"] == "failed" and reason in state["delivery_error"]
