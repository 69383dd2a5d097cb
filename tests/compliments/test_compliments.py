"""Praise and thanks are recognised in Dutch and English; politeness around a request or a
complaint is not praise."""

from __future__ import annotations

import pytest

from balie.compliments.classifier import MAX_CHARS, is_compliment, why

PRAISE = [
    "Super snel geleverd, dank jullie wel!",
    "Bedankt voor de snelle hulp.",
    "Wat een geweldige service, complimenten aan het team",
    "Heel blij met mijn nieuwe jas 😊",
    "Dankjewel!",
    "Top, het pakket is binnen. Dank u wel",
    "Keurig verpakt en snel geleverd",
    "Echt fijn dat jullie zo snel reageerden",
    "Chapeau, jullie zijn toppers",
    "Thank you so much, the shoes fit perfectly!",
    "Thanks!",
    "Great service, highly recommend.",
    "Really happy with my order, well done",
    "Cheers, that sorted it",
    "I appreciate the quick reply",
    "BEDANKT!!!",
]

NOT_PRAISE = [
    "Mijn pakket is nog steeds niet aangekomen.",
    "Waar blijft mijn bestelling?",
    "Bedankt, maar het product is kapot aangekomen",
    "Alvast bedankt voor jullie reactie",
    "Kunnen jullie mijn bestelling annuleren? Bedankt",
    "Top dat jullie reageren, maar ik heb nog steeds geen geld terug",
    "Ik wil mijn bestelling retour sturen",
    "Thanks, but it still hasn't arrived",
    "Thanks in advance for your help",
    "Where is my order? Thanks",
    "The jacket arrived damaged, please send a new one",
    "Great, another wrong size. Unfortunately I have to return it",
    "Can you tell me when it will be delivered? Thank you",
    "Ik ben niet tevreden",
    "Hallo, ik heb een vraag over mijn factuur",
    "",
    "   ",
]


@pytest.mark.parametrize("text", PRAISE)
def test_praise_and_thanks_are_recognised(text: str) -> None:
    assert is_compliment(text)
    assert why(text)


@pytest.mark.parametrize("text", NOT_PRAISE)
def test_requests_and_complaints_are_not_praise_however_polite(text: str) -> None:
    assert not is_compliment(text)
    assert why(text) is None


def test_a_long_message_is_about_something_else() -> None:
    assert not is_compliment("Bedankt! " + "Het weer is mooi vandaag. " * (MAX_CHARS // 20))


def test_words_inside_other_words_do_not_count() -> None:
    assert not is_compliment("Stopcontact")  # 'top' inside a word
    assert not is_compliment("Supermarkt-tas ontvangen")
    assert is_compliment("Super!")
