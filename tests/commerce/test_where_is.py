"""Does a customer ask where their order is? Dutch and English phrasings, and the questions
that are about something else."""

from __future__ import annotations

import pytest

from balie.commerce.where_is import asks_where


@pytest.mark.parametrize("text", [
    "Waar blijft mijn bestelling?",
    "waar is mijn pakket",
    "Waar blijft m’n pakketje nou?",
    "Waar blijft mijn nieuwe laptop bestelling",
    "Wanneer komt mijn bestelling?",
    "Wanneer wordt mijn bestelling geleverd?",
    "Is mijn bestelling al verzonden?",
    "Ik heb mijn bestelling nog steeds niet ontvangen",
    "Mijn pakket is nog niet aangekomen",
    "Wat is de status van mijn bestelling 10023?",
    "Heb je een track & trace code voor me?",
    "Hallo,\n\nik heb vorige week besteld. Waar blijft\nmijn bestelling? Groet, Jan",
    "Waar blijft bestelling 10023?",
    "Where is my order?",
    "Where is order #10023?",
    "where's my package",
    "WHERE IS MY PARCEL",
    "When will my order arrive?",
    "Has my order shipped yet?",
    "Has my order been shipped?",
    "I still haven't received my order",
    "My parcel hasn't arrived",
    "What is the status of my order?",
    "Can I track my order?",
])
def test_asking_where_the_order_is(text: str) -> None:
    assert asks_where(text)


@pytest.mark.parametrize("text", [
    "Ik wil mijn bestelling retourneren",
    "Waar is jullie winkel?",
    "Is deze laptop op voorraad?",
    "I want to cancel my order",
    "Where is your store located?",
    "Hoe lang is de garantie?",
    "Can I change the address of my order?",
    "Bedankt, het pakket is goed aangekomen!",
    "My order arrived, thank you!",
    "Waar kan ik mijn retour afgeven?",
    "Ik heb een vraag over de factuur",
    "Wanneer zijn jullie open?",
    "",
])
def test_other_questions(text: str) -> None:
    assert not asks_where(text)
