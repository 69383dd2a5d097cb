"""The customer's orders beside the conversation: status, promise, parcels with their last
scan and tracking link, the buttons that insert a summary or the tracking link in the
customer's language, order numbers in messages linked to the panel, and nothing the
customer wrote ever running in the agent's browser."""

from __future__ import annotations

import datetime as dt
import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from test_ui_queries import queries

from balie import clock
from balie.canned import service as canned_service
from balie.commerce.models import OrderLine, Shipment
from balie.customers.models import Customer
from balie.returns import service as return_service
from factories import Tenant, post_message
from order_support import POSTNL, place
from ui_support import active_content, elements, sign_in

KLANT = "klant@example.nl"  # post_message's customer
SCANNED = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
SCANS = [("info_received", SCANNED - dt.timedelta(hours=10), "Zending aangemeld"),
         ("in_transit", SCANNED, "Sorteercentrum <b>Nieuwegein</b>")]


def panel(page: str) -> str:
    return page[page.index('id="orders"'):page.index('id="timeline"')]


def orders_shown(page: str) -> list[str]:
    return re.findall(r'class="order[^"]*" id="order-\d+" data-order-number="([^"]+)"', panel(page))


def inserts(page: str, kind: str) -> list[str]:
    return [html.unescape(value) for value in
            re.findall(rf'data-insert="([^"]*)" data-testid="insert-{kind}"', panel(page))]


def test_the_panel_shows_orders_parcels_and_what_one_click_inserts(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    order_id = place(factory, tenant.shop_id, "10023", email=KLANT, parcel=POSTNL, scans=SCANS)
    place(factory, tenant.shop_id, "10011", email=KLANT, placed_at=SCANNED - dt.timedelta(days=30), promised=None)
    conversation_id = post_message(client, tenant, text="Waar blijft bestelling 10023?")["conversation_id"]
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text
    shown = panel(page)

    assert orders_shown(page) == ["10023", "10011"]  # newest first
    item = shown[shown.index(f'id="order-{order_id}"'):shown.index('data-order-number="10011"')]
    assert "#10023" in item and "€\xa0938,90" in item
    assert '>Open</span>' in item and '>Onderweg</span>' in item
    assert "Beloofd: wo 25 nov 2026" in item
    assert "1 × Laptop 14 inch" in item and "2 × Laptophoes" in item
    # The parcel: carrier, the tracking link in a new tab, the last scan (escaped), every scan.
    assert ('<a href="https://postnl.example/track/3SABC123" target="_blank" rel="noopener noreferrer" '
            'data-testid="tracking-link">3SABC123</a>') in item
    assert "Onderweg · <time" in item and "Sorteercentrum &lt;b&gt;Nieuwegein&lt;/b&gt;" in item
    assert "Alle scans (2)" in item
    # One click: in the customer's language (Dutch, from their message).
    assert inserts(page, "tracking") == ["Volg je pakket bij PostNL: https://postnl.example/track/3SABC123"]
    summary = inserts(page, "summary")[0]
    assert summary == ("Bestelling 10023 van maandag 23 november\n- 1 x Laptop 14 inch\n- 2 x Laptophoes\n"
                       "Totaal: €\xa0938,90\n\nJe bestelling 10023 is onderweg. Verwachte levering: woensdag 25 "
                       "november.\nVolg je pakket bij PostNL: https://postnl.example/track/3SABC123")
    # The order the conversation mentions is the one in focus, and the mention links to it.
    assert f'class="order order--focus order--mentioned" id="order-{order_id}"' in shown
    assert (f'Waar blijft bestelling <a class="order-mention" href="#order-{order_id}" data-order-number="10023">'
            '10023</a>?') in page
    assert active_content(page) == []


def test_in_english_the_panel_follows_the_agent_and_the_inserts_the_customer(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", email=KLANT, parcel=POSTNL, scans=SCANS)
    conversation_id = post_message(client, tenant, text="Hello, where is my order? It has not arrived yet.")[
        "conversation_id"]
    with factory() as session, session.begin():  # as the message job notes from their text
        session.execute(update(Customer).values(language="en"))
    sign_in(client, tenant)
    client.cookies.set("balie_lang", "en")

    page = client.get(f"/inbox/c/{conversation_id}").text

    assert ">In transit</span>" in panel(page) and "Promised: Wed 25 Nov 2026" in panel(page)
    assert inserts(page, "tracking") == ["Track your parcel with PostNL: https://postnl.example/track/3SABC123"]
    assert inserts(page, "summary")[0].startswith("Order 10023 of Monday 23 November\n- 1 x Laptop 14 inch")

    with factory() as session, session.begin():  # the customer writes Dutch: the agent's English stays
        session.execute(update(Customer).values(language="nl"))
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert ">In transit</span>" in panel(page)
    assert inserts(page, "tracking") == ["Volg je pakket bij PostNL: https://postnl.example/track/3SABC123"]


def test_five_orders_then_more_and_a_mentioned_one_always_shown(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    for day in range(8):
        place(factory, tenant.shop_id, f"{10000 + day}", email=KLANT, placed_at=SCANNED - dt.timedelta(days=day))
    conversation_id = post_message(client, tenant, text="Het gaat om ordernummer #10007")["conversation_id"]
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text

    first, more = panel(page).split('id="more-orders"')
    assert re.findall(r'data-order-number="(\d+)" data-testid="order"', first) == [
        "10000", "10001", "10002", "10003", "10004", "10007"]
    assert "Nog 2 bestellingen" in more
    assert re.findall(r'data-order-number="(\d+)" data-testid="order"', more) == ["10005", "10006"]
    assert 'class="order-mention" href="#order-' in page


def test_another_customers_order_is_shown_but_not_one_click_away(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, other_tenant: Tenant,
        frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "20001", email="iemand@example.nl", parcel=POSTNL, scans=SCANS)
    place(factory, other_tenant.shop_id, "30001", email=KLANT)
    conversation_id = post_message(client, tenant, text="Bestelling 20001, bestelling 30001 en order 99999")[
        "conversation_id"]
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text

    assert orders_shown(page) == ["20001"]  # another shop's 30001 is not there, nor linked
    assert "Geplaatst door een andere klant" in panel(page)
    assert inserts(page, "summary") == [] and inserts(page, "tracking") == []
    assert page.count('class="order-mention"') == 1 and "bestelling 30001 en order 99999" in page


def test_hostile_text_stays_text(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                 frozen_clock: clock.FrozenClock) -> None:
    order_id = place(factory, tenant.shop_id, "10023", email=KLANT, parcel=POSTNL, scans=SCANS)
    with factory() as session, session.begin():
        # Whatever got stored (an older import, a platform bug): only an http(s) address is a link.
        session.execute(update(Shipment).values(tracking_url="javascript:alert(1)"))
        session.execute(update(OrderLine).values(name='<img src=x onerror="alert(1)">'))
    text = ('<script>alert(1)</script> bestelling 10023" onmouseover="alert(1) & #10023<a href=x>'
            "\nbel 06 12345678, postcode 1012 AB, € 10023,00")
    conversation_id = post_message(client, tenant, text=text)["conversation_id"]
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text

    assert active_content(page) == []
    assert "javascript:" not in [attributes.get("href", "")[:11] for _, attributes in elements(page)]
    assert 'data-testid="tracking-link"' not in page and inserts(page, "tracking") == []
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in panel(page)
    link = f'<a class="order-mention" href="#order-{order_id}" data-order-number="10023">'
    assert (f"&lt;script&gt;alert(1)&lt;/script&gt; bestelling {link}10023</a>&#34; onmouseover=&#34;alert(1) "
            f"&amp; {link}#10023</a>&lt;a href=x&gt;\nbel 06 12345678, postcode 1012 AB, € 10023,00") in page


def test_no_orders(client: TestClient, tenant: Tenant) -> None:
    conversation_id = post_message(client, tenant, text="Bestelling 10023")["conversation_id"]
    sign_in(client, tenant)
    page = client.get(f"/inbox/c/{conversation_id}").text
    assert "Geen bestellingen bekend van deze klant." in page and "order-mention" not in page


def test_canned_replies_in_the_composer_fill_in_the_order(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", email=KLANT, parcel=POSTNL, scans=SCANS)
    with factory() as session, session.begin():
        canned_service.create(session, shop_id=tenant.shop_id, title="Track", shortcut="track",
                              body="Je bestelling {{order.number}} {{order.delivery_status}}: {{order.tracking_url}}")
    conversation_id = post_message(client, tenant, text="Waar is mijn pakket?")["conversation_id"]
    sign_in(client, tenant)

    page = client.get(f"/inbox/c/{conversation_id}").text

    assert ('data-body="Je bestelling 10023 is onderweg: https://postnl.example/track/3SABC123"') in page


def test_the_live_partial_carries_the_panel(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                            frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", email=KLANT, parcel=POSTNL, scans=SCANS)
    conversation_id = post_message(client, tenant, text="Bestelling 10023")["conversation_id"]
    sign_in(client, tenant)
    partial = client.get(f"/ui/partials/conversation/{conversation_id}").text
    assert orders_shown(partial) == ["10023"] and 'class="order-mention"' in partial


def withdraw(factory: sessionmaker[Session], shop_id: int, number: str) -> None:
    with factory() as session, session.begin():
        return_service.open_case(session, shop_id, return_service.Request(order_number=number, source="agent"))


def test_the_page_queries_do_not_grow_with_orders_parcels_and_returns(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10000", email=KLANT, parcel=POSTNL, scans=SCANS)
    withdraw(factory, tenant.shop_id, "10000")
    conversation_id = post_message(client, tenant, text="Bestelling 10000 en bestelling 20000")["conversation_id"]
    sign_in(client, tenant)
    few = queries(factory, lambda: client.get(f"/inbox/c/{conversation_id}"))
    for number in range(1, 12):
        place(factory, tenant.shop_id, f"{10000 + number}", email=KLANT,
              parcel={**POSTNL, "tracking_code": f"3S{number}"}, scans=SCANS)
        withdraw(factory, tenant.shop_id, f"{10000 + number}")
    place(factory, tenant.shop_id, "20000", email="ander@example.nl", parcel=POSTNL | {"tracking_code": "3SX"})
    withdraw(factory, tenant.shop_id, "20000")
    many = queries(factory, lambda: client.get(f"/inbox/c/{conversation_id}"))
    # Orders, mentioned orders of someone else, lines, parcels, scans, return cases: one query each.
    assert len(many) == len(few), many
    page = client.get(f"/inbox/c/{conversation_id}").text
    shown = orders_shown(page)
    assert len(shown) == 13 and shown[5:7] == ["10000", "20000"]  # five newest, the mentioned, then "more"
    assert panel(page).count('data-testid="order-returns"') == 13
