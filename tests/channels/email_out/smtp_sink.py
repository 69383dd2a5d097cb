"""A real SMTP server on a free loopback port that keeps what it is sent and answers as told,
and builders for e-mail conversations (import by name; no conftest here)."""

from __future__ import annotations

import email
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.channels.email import service as mailbox_service
from balie.channels.email.models import Mailbox
from balie.conversations.ingest import InboundMessage, ingest
from balie.conversations.models import Message
from balie.customers.service import IdentityRef, normalise
from balie.storage import FileStore
from factories import Tenant
from servers import free_port

SUPPORT = "support@fietsen.example"
CUSTOMER = "klant@example.nl"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Handler:
    data_answers: list[str] = field(default_factory=list)  # given at DATA, in order; then 250
    rcpt_answers: list[str] = field(default_factory=list)  # given at RCPT, in order; then 250
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: SmtpSession, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.rcpt_answers:
            return self.rcpt_answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: SmtpSession, envelope: Envelope) -> str:
        if self.data_answers:
            return self.data_answers.pop(0)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        assert isinstance(envelope.content, bytes)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), envelope.content, login))
        return "250 2.0.0 Ok: queued as 4242"


@dataclass
class Sink:
    host: str
    port: int
    handler: Handler

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


def _check_login(users: dict[str, str]) -> Any:
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and users.get(data.login.decode()) == data.password.decode()
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    return authenticator


@contextmanager
def smtp_sink(port: int | None = None, *, users: dict[str, str] | None = None,
              tls: ssl.SSLContext | None = None, starttls: ssl.SSLContext | None = None) -> Iterator[Sink]:
    """`users`: check logins; `tls`: implicit TLS; `starttls`: offer (and require) STARTTLS."""
    handler = Handler()
    port = port or free_port()
    options: dict[str, Any] = {}
    if users is not None:
        # Offered without TLS (loopback); not required, so the test checks that we did log in.
        options.update(authenticator=_check_login(users), auth_require_tls=False)
    if starttls is not None:
        options.update(tls_context=starttls, require_starttls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=tls, **options)
    controller.start()
    try:
        yield Sink("127.0.0.1", port, handler)
    finally:
        controller.stop()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key); trust it with SSL_CERT_FILE."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def add_mailbox(factory: sessionmaker[Session], tenant: Tenant, address: str = SUPPORT, *,
                display_name: str = "Fietsenwinkel", signature: str = "", **relay: object) -> int:
    """`relay`: smtp_host, smtp_port, smtp_security, smtp_user, smtp_password of the mailbox."""
    with factory() as session, session.begin():
        mailbox = mailbox_service.create(session, shop_id=tenant.shop_id, address=address,
                                         display_name=display_name)
        mailbox.signature = signature
        for name, value in relay.items():
            setattr(mailbox, name, value)
        return mailbox.id


def update_mailbox(factory: sessionmaker[Session], mailbox_id: int, **values: object) -> None:
    with factory() as session, session.begin():
        mailbox = session.get_one(Mailbox, mailbox_id)
        for name, value in values.items():
            setattr(mailbox, name, value)


def receive_mail(factory: sessionmaker[Session], tenant: Tenant, *, message_id: str,
                 sender: str = CUSTOMER, text: str = "Waar blijft mijn fiets?", subject: str = "Mijn bestelling",
                 references: list[str] | None = None, identities: list[IdentityRef] | None = None,
                 raw: bytes | None = None, store: FileStore | None = None, to: str | None = SUPPORT,
                 flags: list[str] | None = None) -> int:
    """A customer's e-mail taken in as the receiver would; `raw` is kept as its source (in
    `store`). Returns the conversation id."""
    raw_path = None
    if raw is not None:
        assert store is not None, "keeping the raw source needs the app's file store"
        raw_path = store.save(raw, folder="mail").path
    with factory() as session, session.begin():
        result = ingest(session, InboundMessage(
            shop_id=tenant.shop_id, channel="email",
            identities=identities or [normalise("email", sender)],
            text=text, subject=subject, customer_name="Klaas Klant", external_id=message_id,
            channel_address=to, explicit_threading=True, references=references or [], raw_path=raw_path,
            flags=flags or [], quiet=bool(flags),
        ))
        return result.conversation_id


def reply(client: TestClient, tenant: Tenant, conversation_id: int, text: str = "Hij komt morgen!") -> int:
    response = client.post(f"/api/v1/conversations/{conversation_id}/replies", headers=tenant.headers,
                           json={"text": text})
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def message_state(client: TestClient, tenant: Tenant, conversation_id: int, message_id: int) -> dict[str, Any]:
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
    assert detail.status_code == 200, detail.text
    return next(m for m in detail.json()["messages"] if m["id"] == message_id)  # type: ignore[no-any-return]


def external_id(factory: sessionmaker[Session], message_id: int) -> str:
    with factory() as session:
        value = session.scalars(select(Message.external_id).where(Message.id == message_id)).one()
        assert value is not None
        return value
