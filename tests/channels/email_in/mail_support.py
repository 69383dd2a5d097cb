"""A running SMTP receiver on a free loopback port for the e-mail tests, and mail builders."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from balie.channels.email import receiver
from balie.channels.email import service as mailbox_service
from factories import Tenant
from servers import free_port

SUPPORT = "support@fietsen.example"


@dataclass
class Smtp:
    host: str
    port: int
    handler: receiver.Handler

    def send(self, message: EmailMessage | bytes, *, to: str = SUPPORT, sender: str = "klant@example.nl") -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as client:
            if isinstance(message, bytes):  # SMTP lines end in CRLF; smtplib sends bytes as they are
                client.sendmail(sender, [to], re.sub(rb"\r?\n", b"\r\n", message))
            else:
                client.send_message(message, from_addr=sender, to_addrs=[to])


@contextmanager
def smtp_receiver(app: FastAPI, *, max_bytes: int = 25 * 1024 * 1024, hold_per_hour: int = 20) -> Iterator[Smtp]:
    import dataclasses

    context = app.state.context
    settings = dataclasses.replace(context.settings, mail_max_bytes=max_bytes, mail_hold_per_hour=hold_per_hour)
    handler = receiver.Handler(context.factory, context.store, context.limiter, settings, context.ingest_lock)
    port = free_port()
    with receiver.running(handler, ("127.0.0.1", port), max_bytes=max_bytes) as controller:
        assert controller is not None
        yield Smtp("127.0.0.1", port, handler)


def add_mailbox(factory: sessionmaker[Session], tenant: Tenant, address: str = SUPPORT) -> None:
    with factory() as session, session.begin():
        mailbox_service.create(session, shop_id=tenant.shop_id, address=address, display_name="Fietsenwinkel")


def mail(subject: str = "Mijn bestelling", body: str = "Waar blijft mijn fiets?", *,
         sender: str = "Klaas Klant <klant@example.nl>", to: str = SUPPORT, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="klant.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message
