"""What the agents read about a Shopify privacy request, in the shop's language (nl, en)."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date

LANGUAGES = ("nl", "en")

_TEXTS = {
    "nl": {
        "subject": "Privacy: verzoek om gegevens via Shopify",
        "intro": "Via Shopify vraagt deze klant welke persoonsgegevens we van hem of haar hebben "
                 "(Shopify-verzoek {request}). Stuur de klant dit overzicht binnen 30 dagen.",
        "held": "Wat Balie van deze klant heeft:",
        "name": "- Naam: {name}",
        "identity": "- {kind}: {value}",
        "orders": "- Bestellingen: {count}",
        "order": "  - {number} van {date}, {total} {currency}, {status}",
        "more_orders": "  - en nog {count} eerdere",
        "conversations": "- Gesprekken: {count} (met alle berichten, zie het klantprofiel)",
        "callbacks": "- Terugbelverzoeken: {count}",
        "email": "e-mail",
        "phone": "telefoon",
        "external": "klantnummer van de winkel",
        "visitor": "chatbezoeker",
        "social": "sociale media",
    },
    "en": {
        "subject": "Privacy: data request via Shopify",
        "intro": "Through Shopify this customer asks which personal data we hold about them "
                 "(Shopify request {request}). Send the customer this overview within 30 days.",
        "held": "What Balie holds about this customer:",
        "name": "- Name: {name}",
        "identity": "- {kind}: {value}",
        "orders": "- Orders: {count}",
        "order": "  - {number} of {date}, {total} {currency}, {status}",
        "more_orders": "  - and {count} earlier ones",
        "conversations": "- Conversations: {count} (with every message, see the customer's profile)",
        "callbacks": "- Call-back requests: {count}",
        "email": "e-mail",
        "phone": "phone",
        "external": "the shop's customer number",
        "visitor": "chat visitor",
        "social": "social media",
    },
}


def language(code: str | None) -> str:
    return code if code in LANGUAGES else "nl"


def text(code: str, key: str, **values: object) -> str:
    return _TEXTS[language(code)][key].format(**values)


def day(code: str, value: dt.datetime) -> str:
    return str(format_date(value.date(), "d MMMM yyyy", locale=language(code)))
