"""/withdraw/{shop_public_key}: the withdrawal function a shop links to as "Herroepen". Two
steps, a neutral answer for a wrong order/e-mail combination, CSRF, a rate limit, hostile
input, no second case for the same withdrawal, and the confirmation mail through the outbox."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from returns_support import deliver, post_order
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie.channels.email import service as mailbox_service
from balie.conversations.models import Message
from balie.outbox.models import OutboxEntry
from balie.returns.models import ReturnCase
from balie.returns.page import FAILURES_PER_WINDOW
from balie.shops.models import Shop
from factories import Tenant

pytestmark = pytest.mark.usefixtures("frozen_clock")  # now: Tuesday 24 November 2026, 11:00 in Amsterdam


@pytest.fixture
def page(client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> str:
    with factory() as session, session.begin():
        mailbox_service.create(session, shop_id=tenant.shop_id, address="support@winkel.nl", display_name="Winkel")
        key = session.scalars(select(Shop.public_key).where(Shop.id == tenant.shop_id)).one()
    post_order(client, tenant)
    deliver(client, tenant, "10023", "2026-11-20T14:00:00+01:00")
    return f"/withdraw/{key}"


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def start(client: TestClient, page: str, lang: str = "nl") -> str:
    response = client.get(page, params={"lang": lang})
    assert response.status_code == 200
    return token(response.text)


def identify(client: TestClient, page: str, csrf: str, number: str = "10023", email: str = "jan@example.nl",
             lang: str = "nl") -> Any:
    return client.post(page, data={"csrf_token": csrf, "lang": lang, "step": "identify", "order_number": number,
                                   "email": email})


def confirm(client: TestClient, page: str, csrf: str, lang: str = "nl", **extra: str) -> Any:
    data = {"csrf_token": csrf, "lang": lang, "step": "confirm", "order_number": "10023", "email": "jan@example.nl",
            "qty_0": "0", "qty_1": "2"}
    data.update(extra)
    return client.post(page, data=data)


def cases(factory: sessionmaker[Session]) -> list[ReturnCase]:
    with factory() as session:
        return list(session.scalars(select(ReturnCase)))


def test_a_customer_withdraws_in_two_steps_and_gets_the_confirmation_by_mail(
    client: TestClient, page: str, factory: sessionmaker[Session]
) -> None:
    csrf = start(client, page)
    chosen = identify(client, page, csrf, number="#10023", email=" JAN@example.nl ")
    assert chosen.status_code == 200
    assert "Bestelling 10023: kies wat je herroept" in chosen.text
    assert "Laptop 14 inch" in chosen.text and 'name="qty_1"' in chosen.text
    assert "Herroeping bevestigen" in chosen.text
    assert cases(factory) == []  # identifying alone withdraws nothing

    done = confirm(client, page, token(chosen.text), reason="Te klein")
    assert done.status_code == 200
    assert "Je herroeping is ontvangen" in done.text
    assert "24 november 2026 om 11:00" in done.text  # the moment, in the shop's zone

    [case] = cases(factory)
    assert (case.source, case.reason, case.language, case.in_time) == ("withdrawal_page", "Te klein", "nl", True)
    with factory() as session:
        mail = session.scalars(select(Message).where(Message.direction == "out")).one()
        assert session.scalars(select(OutboxEntry.message_id)).one() == mail.id
    assert mail.conversation_id == case.conversation_id and mail.flags == "withdrawal_confirmation"
    assert "We hebben je herroeping ontvangen op 24 november 2026 om 11:00." in mail.text
    assert "- 2 × Laptophoes (HOES)" in mail.text and "Laptop 14" not in mail.text
    assert "uiterlijk dinsdag 8 december 2026" in mail.text and "€\u00a030,00" in mail.text
    assert "Reden: Te klein" in mail.text
    with factory() as session:
        note = session.scalars(select(Message.text).where(Message.direction == "note")).one()
    assert note == (f"Herroeping van bestelling 10023 vastgelegd: /returns/{case.id}. Terugbetalen (€\u00a030,00) "
                    "uiterlijk dinsdag 8 december 2026.")


def test_a_late_withdrawal_is_confirmed_without_promising_a_refund(
    client: TestClient, page: str, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    post_order(client, tenant, {"number": "30001", "customer": {"email": "jan@example.nl"},
                                "lines": [{"sku": "X", "name": "Lamp", "quantity": 1, "price": "20.00"}],
                                "total": "20.00", "currency": "EUR", "placed_at": "2026-10-01T10:00:00+02:00"})
    deliver(client, tenant, "30001", "2026-10-05T10:00:00+02:00")  # the period ended Monday 19 October
    csrf = start(client, page)
    done = client.post(page, data={"csrf_token": csrf, "step": "confirm", "order_number": "30001",
                                   "email": "jan@example.nl", "qty_0": "1"})
    assert "Je herroeping is ontvangen" in done.text
    with factory() as session:
        mail = session.scalars(select(Message.text).where(Message.direction == "out")).one()
        note = session.scalars(select(Message.text).where(Message.direction == "note")).one()
    assert "eindigde de bedenktijd op maandag 19 oktober 2026" in mail and "terugbetalen" not in mail.lower()
    assert "Te laat: de bedenktijd eindigde maandag 19 oktober 2026" in note


def test_english_page_and_mail(client: TestClient, page: str, factory: sessionmaker[Session]) -> None:
    csrf = start(client, page, "en")
    assert "Withdraw from contract" in client.get(page, params={"lang": "en"}).text
    chosen = identify(client, page, csrf, lang="en")
    assert "Confirm withdrawal" in chosen.text
    done = confirm(client, page, token(chosen.text), lang="en", qty_0="1", qty_1="2")
    assert "Your withdrawal has been received" in done.text
    with factory() as session:
        mail = session.scalars(select(Message).where(Message.direction == "out")).one()
    assert "We received your withdrawal on 24 November 2026 at 11:00." in mail.text
    assert "- 1 × Laptop 14 inch (LAP-14)" in mail.text and "€935.95" in mail.text  # the whole order: delivery too
    assert "by Tuesday 8 December 2026" in mail.text


def test_the_same_withdrawal_twice_is_one_case_and_one_mail(client: TestClient, page: str,
                                                            factory: sessionmaker[Session]) -> None:
    csrf = start(client, page)
    confirm(client, page, csrf)
    again = confirm(client, page, csrf)
    assert again.status_code == 200 and "Je herroeping is ontvangen" in again.text
    assert len(cases(factory)) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "out")) == 1


def test_a_wrong_combination_gets_the_same_neutral_answer(client: TestClient, page: str,
                                                           tenant: Tenant) -> None:
    post_order(client, tenant, {"number": "20001", "customer": {"email": "piet@example.nl"}, "lines": [],
                                "total": "10.00", "currency": "EUR", "placed_at": "2026-11-20T10:00:00+01:00"})
    csrf = start(client, page)
    answers = [identify(client, page, csrf, number=number, email=email)
               for number, email in [("10023", "piet@example.nl"), ("99999", "jan@example.nl"),
                                     ("10023", "not an address"), ("", ""), ("20001", "jan@example.nl")]]
    texts = {re.search(r'<p class="error"[^>]*>(.*?)</p>', answer.text, re.S).group(1)  # type: ignore[union-attr]
             for answer in answers}
    assert {answer.status_code for answer in answers} == {200}
    assert texts == {"We vinden geen bestelling met dit nummer en dit e-mailadres. Controleer beide en probeer het "
                     "opnieuw."}
    # The confirm step checks the combination again: a forged second step withdraws nothing.
    forged = confirm(client, page, csrf, email="piet@example.nl")
    assert "We vinden geen bestelling" in forged.text


def test_guessing_is_rate_limited(client: TestClient, page: str, factory: sessionmaker[Session]) -> None:
    csrf = start(client, page)
    for attempt in range(FAILURES_PER_WINDOW):
        assert identify(client, page, csrf, number=str(50000 + attempt)).status_code == 200
    limited = identify(client, page, csrf)  # even the right combination, for now
    assert limited.status_code == 429 and "Te veel pogingen" in limited.text
    assert confirm(client, page, csrf).status_code == 429
    assert cases(factory) == []


def test_without_the_csrf_token_nothing_happens(client: TestClient, page: str, factory: sessionmaker[Session]) -> None:
    csrf = start(client, page)
    assert confirm(client, page, "wd_forged_token_from_another_site").status_code == 403
    client.cookies.clear()
    expired = confirm(client, page, csrf)
    assert expired.status_code == 403 and "Dit formulier is verlopen" in expired.text
    assert cases(factory) == []


def test_hostile_input_is_escaped_and_refused(client: TestClient, page: str, factory: sessionmaker[Session]) -> None:
    csrf = start(client, page)
    echoed = identify(client, page, csrf, number="<script>alert(1)</script>", email='"><img src=x onerror=alert(1)>')
    assert "<script>alert(1)" not in echoed.text and "&lt;script&gt;" in echoed.text
    assert "<img src=x" not in echoed.text

    assert "Dit klopt niet" in confirm(client, page, csrf, qty_1="twee").text
    assert "Dit klopt niet" in confirm(client, page, csrf, qty_1="-1").text
    too_many = confirm(client, page, csrf, qty_1="3")
    assert "Dit klopt niet" in too_many.text and "lines[0].quantity" in too_many.text
    assert "Kies ten minste één artikel" in confirm(client, page, csrf, qty_1="0").text
    assert "Dit klopt niet" in confirm(client, page, csrf, qty_9="1").text
    assert cases(factory) == []

    done = confirm(client, page, csrf, reason="<b>kapot</b>\u0007")
    assert "Dit klopt niet" in done.text and "reason" in done.text  # a control character
    done = confirm(client, page, csrf, reason="<b>kapot</b>")
    assert "Je herroeping is ontvangen" in done.text
    assert cases(factory)[0].reason == "<b>kapot</b>"  # stored as typed; escaped wherever shown


def test_an_unknown_shop_is_not_found(client: TestClient) -> None:
    assert client.get("/withdraw/nope").status_code == 404
    assert client.post("/withdraw/nope", data={"step": "identify"}).status_code == 404
    assert client.get("/withdraw/" + "x" * 300).status_code == 404
