"""Return cases beside the conversation: under each order in the customer panel its returns,
with where each stands, the refund's due date (and whether it is late), the end of the
withdrawal period and a link to the case, so "where is my refund?" is answered in place."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from test_ui_orders import KLANT, panel

from balie import clock
from balie.returns import service as return_service
from factories import Tenant, post_message
from order_support import POSTNL, place
from ui_support import sign_in

# Delivered Friday 20 November (14:00 in Amsterdam); the frozen clock withdraws on Tuesday 24
# November, so the period ends Friday 4 December and the refund is due Tuesday 8 December.
DELIVERED = dt.datetime(2026, 11, 20, 13, 0, tzinfo=dt.UTC)


def delivered_order(factory: sessionmaker[Session], shop_id: int, number: str, *, email: str = KLANT,
                    delivered: dt.datetime = DELIVERED) -> int:
    return place(factory, shop_id, number, email=email, placed_at=delivered - dt.timedelta(days=2),
                 parcel=POSTNL | {"tracking_code": f"3S{number}"}, scans=[("delivered", delivered, "Bezorgd")])


def open_return(factory: sessionmaker[Session], shop_id: int, number: str) -> int:
    with factory() as session, session.begin():
        return return_service.open_case(session, shop_id, return_service.Request(
            order_number=number, source="agent")).case.id


def order_item(page: str, number: str) -> str:
    """One order's <li> in the panel."""
    shown = panel(page)
    start = shown.index(f'data-order-number="{number}" data-testid="order"')
    end = shown.find('data-testid="order"', start + 40)
    return shown[start:end if end != -1 else len(shown)]


def returns_of(item: str) -> list[str]:
    return re.findall(r'data-testid="order-return" data-return-id="(\d+)"', item)


def test_an_agent_sees_the_return_its_refund_date_and_a_link_beside_the_order(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    delivered_order(factory, tenant.shop_id, "10023")
    place(factory, tenant.shop_id, "10011", email=KLANT, placed_at=DELIVERED - dt.timedelta(days=30))
    case_id = open_return(factory, tenant.shop_id, "10023")
    conversation_id = post_message(client, tenant, text="Waar blijft mijn geld voor bestelling 10023?")[
        "conversation_id"]
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text

    item = order_item(page, "10023")
    assert returns_of(item) == [str(case_id)]
    assert f'<a href="/returns/{case_id}" data-testid="return-link">Herroepen op di 24 nov 2026</a>' in item
    assert '>Aangevraagd</span>' in item
    assert "Terugbetalen uiterlijk di 8 dec 2026" in item
    assert 'data-refund-state="on_track"' in item and ">Op tijd</span>" in item
    assert "Bedenktijd tot en met vr 4 dec 2026" in item
    assert 'data-testid="order-returns"' not in order_item(page, "10011")  # an order without a return

    frozen_clock.advance(days=15)  # Wednesday 9 December: the promise to refund by the 8th is broken
    sign_in(client, tenant)  # the agent's session has run out meanwhile
    late = order_item(client.get(f"/inbox/c/{conversation_id}").text, "10023")
    assert 'data-refund-state="breached"' in late and ">Te laat</span>" in late
    assert "Terugbetalen uiterlijk di 8 dec 2026" in late

    with factory() as session, session.begin():
        return_service.record_refund(session, tenant.shop_id, case_id, amount="938.90", reference="re_1")
    refunded = order_item(client.get(f"/inbox/c/{conversation_id}").text, "10023")
    assert '>Terugbetaald</span>' in refunded and "Terugbetaald op wo 9 dec 2026" in refunded
    assert "Terugbetalen uiterlijk" not in refunded and "data-refund-state" not in refunded


def test_in_english(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                    frozen_clock: clock.FrozenClock) -> None:
    delivered_order(factory, tenant.shop_id, "10023")
    case_id = open_return(factory, tenant.shop_id, "10023")
    conversation_id = post_message(client, tenant, text="Where is my refund for order 10023?")["conversation_id"]
    sign_in(client, tenant)
    client.cookies.set("balie_lang", "en")

    item = order_item(client.get(f"/inbox/c/{conversation_id}").text, "10023")

    assert ">Returns</" in item
    assert f'<a href="/returns/{case_id}" data-testid="return-link">Withdrawn on Tue 24 Nov 2026</a>' in item
    assert ">Requested</span>" in item and ">On track</span>" in item
    assert "Refund due Tue 8 Dec 2026" in item and "Withdrawal period ends Fri 4 Dec 2026" in item


def test_where_each_return_stands(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                  frozen_clock: clock.FrozenClock) -> None:
    delivered_order(factory, tenant.shop_id, "10001")
    delivered_order(factory, tenant.shop_id, "10002")
    delivered_order(factory, tenant.shop_id, "10003", delivered=DELIVERED - dt.timedelta(days=20))
    place(factory, tenant.shop_id, "10004", email=KLANT)  # not delivered yet
    sent, received = open_return(factory, tenant.shop_id, "10001"), open_return(factory, tenant.shop_id, "10002")
    open_return(factory, tenant.shop_id, "10003")
    open_return(factory, tenant.shop_id, "10004")
    with factory() as session, session.begin():
        return_service.record_shipment_proof(session, tenant.shop_id, sent)
        line = return_service.lines_of(session, return_service.get(session, tenant.shop_id, received))[0]
        return_service.record_condition(session, tenant.shop_id, received, line.id, condition="unopened")
    conversation_id = post_message(client, tenant, text="Hoe staat het met mijn retouren?")["conversation_id"]
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text

    assert ">Teruggestuurd</span>" in order_item(page, "10001")
    assert ">Retour ontvangen</span>" in order_item(page, "10002")
    # Delivered 31 October: the period ended Monday 16 November, before this withdrawal.
    assert "Te laat herroepen: de bedenktijd eindigde ma 16 nov 2026" in order_item(page, "10003")
    assert "Leverdatum onbekend: aanvaard als op tijd." in order_item(page, "10004")


def test_a_customer_without_returns_sees_no_return_section(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    delivered_order(factory, tenant.shop_id, "10023")
    delivered_order(factory, tenant.shop_id, "20001", email="iemand@example.nl")
    open_return(factory, tenant.shop_id, "20001")  # someone else's order, not in this panel
    conversation_id = post_message(client, tenant, text="Waar blijft bestelling 10023?")["conversation_id"]
    sign_in(client, tenant)

    shown = panel(client.get(f"/inbox/c/{conversation_id}").text)

    assert 'data-order-number="10023"' in shown
    assert 'data-testid="order-returns"' not in shown and "Retouren" not in shown and "/returns/" not in shown
