"""Telling Dutch from English in a customer's messages, and keeping what was known when a
message is too short to tell."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.customers import language
from balie.customers.models import Customer
from balie.scheduling import runner
from balie.worker import HANDLERS
from factories import Tenant, post_message


@pytest.mark.parametrize(("text", "expected"), [
    ("Waar blijft mijn pakket? Ik heb het vorige week besteld.", "nl"),
    ("Hoi, ik heb mijn bestelling nog steeds niet ontvangen.", "nl"),
    ("Super snel geleverd, dank jullie wel!", "nl"),
    ("Goedemiddag, kunt u mij laten weten wanneer de fiets er is? Met vriendelijke groet", "nl"),
    ("Where is my parcel? I ordered it last week.", "en"),
    ("Hi, I haven't received my order yet.", "en"),
    ("Great service, thank you so much!", "en"),
    ("Dear team, could you please tell me when the bike will be delivered? Kind regards", "en"),
])
def test_dutch_and_english_are_told_apart(text: str, expected: str) -> None:
    assert language.detect(text) == expected


@pytest.mark.parametrize("text", ["", "Top!", "Thanks!", "OK", "👍", "12345", "Bedankt", "Order 4711",
                                  "Hallo, hello", "Ich habe eine Frage zu meiner Bestellung"])
def test_short_mixed_or_other_texts_are_not_guessed(text: str) -> None:
    assert language.detect(text) is None


def test_a_huge_text_is_read_from_its_start_only() -> None:
    # What comes after the start (quoted history, a forwarded English mail) does not count.
    text = "Waar blijft mijn pakket? " + "." * language.MAX_CHARS + " the and of to with" * 1_000_000
    assert language.detect(text) == "nl"


def test_the_language_to_write_in() -> None:
    assert language.of_customer("en", "nl") == "en"
    assert language.of_customer("", "en") == "en"  # unknown: the shop's
    assert language.of_customer("", "de") == "nl"  # a language Balie has no texts in


def customer_language(factory: sessionmaker[Session], customer_id: object) -> str:
    with factory() as session:
        return session.get_one(Customer, customer_id).language


def test_each_clear_message_sets_the_customers_language(client: TestClient, tenant: Tenant,
                                                        factory: sessionmaker[Session]) -> None:
    customer_id = post_message(client, tenant, text="Top!")["customer_id"]
    runner.run_due(factory, HANDLERS)
    assert customer_language(factory, customer_id) == ""  # not known yet
    assert client.get(f"/api/v1/customers/{customer_id}", headers=tenant.headers).json()["language"] is None

    post_message(client, tenant, text="Hi, I have not received my order yet.")
    runner.run_due(factory, HANDLERS)
    assert customer_language(factory, customer_id) == "en"

    post_message(client, tenant, text="OK")  # too short: keeps English
    runner.run_due(factory, HANDLERS)
    assert customer_language(factory, customer_id) == "en"

    post_message(client, tenant, text="Sorry, ik schrijf liever in het Nederlands. Waar blijft het pakket?")
    runner.run_due(factory, HANDLERS)
    assert customer_language(factory, customer_id) == "nl"
    assert client.get(f"/api/v1/customers/{customer_id}", headers=tenant.headers).json()["language"] == "nl"
