"""What the promise monitor says, in Dutch and English: the default notice a shop starts
from, what happened (per rule), the voucher sentence, and the notes agents read.

A notice template uses {{variables}} like canned replies; only the ones in VARIABLES exist,
and values are filled in once (a customer named "{{voucher}}" stays that name)."""

from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date

from balie.commerce.promises.models import LANGUAGES

VARIABLES = ("customer.name", "order.number", "what_happened", "new_date", "voucher", "shop.name")
VARIABLE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")

DEFAULT_SUBJECT = {
    "nl": "Je bestelling {{order.number}} komt later dan beloofd",
    "en": "Your order {{order.number}} will arrive later than promised",
}
DEFAULT_BODY = {
    "nl": "Hallo {{customer.name}},\n\n{{what_happened}}\n\nWe verwachten je bestelling {{order.number}} nu op "
          "{{new_date}}. Het spijt ons dat we onze belofte niet hebben waargemaakt.\n\n{{voucher}}\n\n"
          "Met vriendelijke groet,\n{{shop.name}}",
    "en": "Hello {{customer.name}},\n\n{{what_happened}}\n\nWe now expect your order {{order.number}} on "
          "{{new_date}}. We are sorry we did not keep our promise.\n\n{{voucher}}\n\n"
          "Kind regards,\n{{shop.name}}",
}

_TEXTS = {
    "nl": {
        "cutoff": "Je pakket is niet op tijd bij de vervoerder aangekomen om morgen bezorgd te worden.",
        "passed": "Je pakket is niet bezorgd op de beloofde dag.",
        "exception": "De vervoerder meldt een probleem met je pakket.",
        "delivery_failed": "De vervoerder heeft je pakket niet kunnen bezorgen.",
        "stuck": "Je pakket is langer onderweg dan normaal.",
        "voucher": "Als excuus krijg je van ons een tegoedbon van {amount}: gebruik code {code} bij je volgende "
                   "bestelling.",
        "customer": "klant",
        "unreachable": "Belofte gebroken voor bestelling {number}: {what} De klant heeft geen e-mailadres of open "
                       "chat waarop we een bericht kunnen sturen: neem zelf contact op (nieuwe verwachte datum "
                       "{new_date}{voucher}).",
        "blocked": "Belofte gebroken voor bestelling {number}: {what} De klant is geblokkeerd of gedempt, dus er is "
                   "geen automatisch bericht gestuurd: beslis zelf of en hoe je de klant bericht (nieuwe verwachte "
                   "datum {new_date}{voucher}).",
        "unreachable_subject": "Bestelling {number}: levering te laat, klant niet bereikbaar",
        "escalation_subject": "Bestelling {number}: tweede gebroken leverbelofte",
        "escalation": "Tweede gebroken belofte voor bestelling {number}: er is geen tweede automatische "
                      "excuusmail gestuurd. Neem persoonlijk contact op met de klant.\n\n"
                      "Geschiedenis:\n{history}",
        "history_promise": "- Oorspronkelijke belofte: {date}",
        "history_breach": "- Eerste breuk ({rule}) vastgesteld op {at}: {what}",
        "history_notice": "- Bericht aan de klant via {channel} op {at} (gesprek #{conversation})",
        "history_unreachable": "- Klant niet bereikbaar: er is geen bericht gestuurd",
        "history_voucher": "- Tegoedbon {code} van {amount}",
        "history_new": "- Nieuwe verwachte datum: {date}",
        "history_second": "- Tweede breuk ({rule}) vastgesteld op {at}: {what}",
        "voucher_note": " en tegoedbon {code} van {amount}",
        "sent_note": "Automatisch bericht over de late levering van bestelling {number} verstuurd{voucher}.",
    },
    "en": {
        "cutoff": "Your parcel did not reach the carrier in time to be delivered tomorrow.",
        "passed": "Your parcel was not delivered on the promised day.",
        "exception": "The carrier reports a problem with your parcel.",
        "delivery_failed": "The carrier could not deliver your parcel.",
        "stuck": "Your parcel is taking longer than usual.",
        "voucher": "As an apology, here is a voucher of {amount}: use code {code} with your next order.",
        "customer": "customer",
        "unreachable": "Promise broken for order {number}: {what} The customer has no e-mail address or open chat "
                       "we can send a message to: contact them another way (new expected date "
                       "{new_date}{voucher}).",
        "blocked": "Promise broken for order {number}: {what} The customer is blocked or muted, so no automatic "
                   "message was sent: decide yourself whether and how to tell them (new expected date "
                   "{new_date}{voucher}).",
        "unreachable_subject": "Order {number}: late delivery, customer not reachable",
        "escalation_subject": "Order {number}: second broken delivery promise",
        "escalation": "Second broken promise for order {number}: no second automatic apology was sent. "
                      "Contact the customer personally.\n\nHistory:\n{history}",
        "history_promise": "- Original promise: {date}",
        "history_breach": "- First breach ({rule}) found on {at}: {what}",
        "history_notice": "- Message to the customer by {channel} on {at} (conversation #{conversation})",
        "history_unreachable": "- Customer not reachable: no message was sent",
        "history_voucher": "- Voucher {code} of {amount}",
        "history_new": "- New expected date: {date}",
        "history_second": "- Second breach ({rule}) found on {at}: {what}",
        "voucher_note": " with voucher {code} of {amount}",
        "sent_note": "Automatic message about the late delivery of order {number} sent{voucher}.",
    },
}


def language(code: str | None) -> str:
    return code if code in LANGUAGES else "nl"


def text(language_code: str, key: str, /, **values: object) -> str:
    return _TEXTS[language(language_code)][key].format(**values)


def date(code: str, value: dt.date) -> str:
    return str(format_date(value, "EEEE d MMMM", locale=language(code)))


def moment(code: str, value: dt.datetime, zone: dt.tzinfo) -> str:
    local = value.astimezone(zone)
    return f"{date(code, local.date())} {local:%H:%M}"


def amount(code: str, value: object, currency: str) -> str:
    from babel.numbers import format_currency

    return str(format_currency(value, currency, locale=language(code)))  # type: ignore[arg-type]


def unknown_variables(template: str) -> list[str]:
    return sorted({name for name in VARIABLE.findall(template) if name not in VARIABLES})


def render(template: str, values: dict[str, str]) -> str:
    """One pass: a value that looks like a variable is not filled in again."""
    return VARIABLE.sub(lambda match: values.get(match.group(1), ""), template)


def tidy(body: str) -> str:
    """An empty {{voucher}} leaves no gap of blank lines."""
    return re.sub(r"\n{3,}", "\n\n", body).strip()
