"""Order numbers in customers' messages: the Dutch and English ways of naming one, what is
never one (phone numbers, postcodes, prices, dates), and only numbers the shop has."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.commerce import mentions
from factories import Tenant, post_message
from order_support import place


@pytest.mark.parametrize(("text", "numbers"), [
    ("Waar blijft bestelling 10023?", ["10023"]),
    ("Bestelling: 10023", ["10023"]),
    ("bestelnummer: 10023", ["10023"]),
    ("Mijn bestelnummer is 10023.", ["10023"]),
    ("bestelnr. 10023", ["10023"]),
    ("bestellingsnummer 10023", ["10023"]),
    ("ordernummer #10023", ["10023"]),
    ("Ordernr 10023", ["10023"]),
    ("bestelling met nummer 10023", ["10023"]),
    ("mijn bestelling (10023) is kapot", ["10023"]),
    ("order #10023", ["10023"]),
    ("Order no. 10023 has not arrived", ["10023"]),
    ("order number: 10023", ["10023"]),
    ("Order-ID: 10023", ["10023"]),
    ("my order with number 10023", ["10023"]),
    ("ORDER 10023", ["10023"]),
    ("Where is #10023?", ["10023"]),
    ("order number NL-10023, thanks", ["NL-10023"]),
    ("bestelling #10023 en #10024, en nog eens bestelling 10023", ["10023", "10024"]),
    ("Hallo,\n\nbestelling\n10023 is niet gekomen", ["10023"]),
])
def test_ways_of_naming_an_order(text: str, numbers: list[str]) -> None:
    assert mentions.candidates([text]) == numbers


@pytest.mark.parametrize("text", [
    "Bel me op 06 12345678 of +31 6 1234 5678",
    "Mijn adres: Damstraat 1, 1012 AB Amsterdam",
    "Ik heb € 10023,00 betaald, 10023 euro!",
    "Besteld op 12-11-2026 om 10:23",
    "I ordered 3 items on 2026-11-12",
    "Ik heb 2 bestellingen gedaan",
    "de bestelling van gisteren",
    "reorder 12345 please",
    "kleur #ff0000 en &#10023; en #12",
    "order 12 stuks",
    "factuurnummer 10023",
    "",
])
def test_what_is_no_order_number(text: str) -> None:
    assert mentions.candidates([text]) == []


def test_the_link_takes_the_hash_along_and_nothing_else() -> None:
    text = "Bestelling #10023 en order no. 10024."
    assert [text[found.start:found.end] for found in mentions.find(text)] == ["#10023", "10024"]


def test_a_huge_message_is_read_only_at_its_start() -> None:
    text = "x " * 20_000 + "bestelling 10023"
    assert mentions.candidates([text]) == []


def test_only_numbers_the_shop_has_count(factory: sessionmaker[Session], tenant: Tenant,
                                         other_tenant: Tenant) -> None:
    place(factory, tenant.shop_id, "10023")
    place(factory, other_tenant.shop_id, "10024")
    with factory() as session:
        texts = ["Waar blijft #10024 en bestelling 10023? Of bestelling 99999. Bel 0612345678, #10023"]
        assert mentions.recognise(session, tenant.shop_id, texts) == ["10023"]  # 10024 is another shop's
        assert mentions.recognise(session, other_tenant.shop_id, texts) == ["10024"]
        assert mentions.recognise(session, tenant.shop_id, ["geen nummer"]) == []


def test_the_conversation_api_names_the_mentioned_orders(client: TestClient, factory: sessionmaker[Session],
                                                         tenant: Tenant) -> None:
    place(factory, tenant.shop_id, "10023")
    place(factory, tenant.shop_id, "10024")
    first = post_message(client, tenant, text="Waar blijft bestelling 10024? Bel 0612345678.")
    post_message(client, tenant, text="En order #10023 en bestelling 99999, <b>#10023</b>")

    detail = client.get(f"/api/v1/conversations/{first['conversation_id']}", headers=tenant.headers).json()

    assert detail["order_numbers"] == ["10024", "10023"]
    quiet = post_message(client, tenant, text="Hallo", customer={"email": "ander@example.nl"})
    assert client.get(f"/api/v1/conversations/{quiet['conversation_id']}",
                      headers=tenant.headers).json()["order_numbers"] == []
