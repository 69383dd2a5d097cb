"""The confirmation on a durable medium reaches the customer: the withdrawal page's mail goes
through the outbox to a real SMTP server on loopback, with the date and time of the
withdrawal, and only once however often the worker runs."""

from __future__ import annotations

import dataclasses
import email
import re
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from returns_support import deliver, post_order
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.channels.email import service as mailbox_service
from balie.config import Settings
from balie.shops.models import Shop
from factories import Tenant

pytestmark = pytest.mark.usefixtures("frozen_clock")


class Collect:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[int, Collect]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler
    controller.stop()


@pytest.fixture
def settings(settings: Settings, sink: tuple[int, Collect]) -> Settings:
    return dataclasses.replace(settings, smtp_relay=f"smtp://127.0.0.1:{sink[0]}")


def test_the_confirmation_mail_arrives_once_with_date_and_time(
    app: FastAPI, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], sink: tuple[int, Collect]
) -> None:
    with factory() as session, session.begin():
        mailbox_service.create(session, shop_id=tenant.shop_id, address="support@winkel.nl", display_name="Winkel")
        key = session.scalars(select(Shop.public_key).where(Shop.id == tenant.shop_id)).one()
    post_order(client, tenant)
    deliver(client, tenant, "10023", "2026-11-20T14:00:00+01:00")
    page = f"/withdraw/{key}"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text).group(1)  # type: ignore[union-attr]
    done = client.post(page, data={"csrf_token": csrf, "step": "confirm", "order_number": "10023",
                                   "email": "jan@example.nl", "qty_0": "1", "qty_1": "0"})
    assert "Je herroeping is ontvangen" in done.text

    app.state.worker.run_once()
    app.state.worker.run_once()

    [(recipients, raw)] = sink[1].mails
    assert recipients == ["jan@example.nl"]
    mail: EmailMessage = email.message_from_bytes(raw, policy=policy.default)  # type: ignore[assignment]
    assert mail["Subject"].startswith("Bevestiging van je herroeping, bestelling 10023")
    assert mail["From"] == "Winkel <support@winkel.nl>"
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "We hebben je herroeping ontvangen op 24 november 2026 om 11:00." in text
    assert "1 × Laptop 14 inch (LAP-14)" in text and "Bewaar deze e-mail" in text
