"""What returns say, in Dutch and English: the withdrawal page, the confirmation the customer
gets by e-mail (the durable medium, with the date and time of the withdrawal), and the notes
agents see when the refund is due soon or overdue. Customer texts follow the language the
customer chose on the page; notes follow the case's language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from balie.returns.models import ReturnCase, ReturnLine

LANGUAGES = ("nl", "en")

PAGE = {
    "nl": {
        "title": "Herroepen",
        "intro": "Hier herroep je je aankoop bij {shop} (je wettelijke bedenktijd). Vul het bestelnummer in en "
                 "het e-mailadres waarmee je bestelde.",
        "order_number": "Bestelnummer",
        "email": "E-mailadres",
        "next": "Verder",
        "not_found": "We vinden geen bestelling met dit nummer en dit e-mailadres. Controleer beide en probeer het "
                     "opnieuw.",
        "choose": "Bestelling {number}: kies wat je herroept",
        "quantity": "Aantal",
        "excluded": "niet te herroepen ({kind})",
        "already": "al herroepen",
        "reason": "Reden (mag je leeg laten)",
        "confirm": "Herroeping bevestigen",
        "nothing": "Kies ten minste één artikel.",
        "nothing_left": "Alles van deze bestelling is al herroepen.",
        "done_title": "Je herroeping is ontvangen",
        "done": "We hebben je herroeping van bestelling {number} ontvangen op {when}. Je krijgt een bevestiging "
                "per e-mail.",
        "expired": "Dit formulier is verlopen. Probeer het opnieuw.",
        "limited": "Te veel pogingen. Probeer het over een tijdje opnieuw.",
        "invalid": "Dit klopt niet: {detail}",
        "language": "English",
    },
    "en": {
        "title": "Withdraw from contract",
        "intro": "Here you withdraw from your purchase at {shop} (your legal right of withdrawal). Enter the order "
                 "number and the e-mail address you ordered with.",
        "order_number": "Order number",
        "email": "E-mail address",
        "next": "Next",
        "not_found": "We cannot find an order with this number and this e-mail address. Check both and try again.",
        "choose": "Order {number}: choose what you withdraw from",
        "quantity": "Quantity",
        "excluded": "cannot be withdrawn ({kind})",
        "already": "already withdrawn",
        "reason": "Reason (you may leave this empty)",
        "confirm": "Confirm withdrawal",
        "nothing": "Choose at least one item.",
        "nothing_left": "Everything in this order has already been withdrawn.",
        "done_title": "Your withdrawal has been received",
        "done": "We received your withdrawal from order {number} on {when}. You will get a confirmation by e-mail.",
        "expired": "This form has expired. Please try again.",
        "limited": "Too many attempts. Please try again later.",
        "invalid": "This is not right: {detail}",
        "language": "Nederlands",
    },
}

EXCEPTION_NAMES = {
    "nl": {"custom_made": "op maat gemaakt", "perishable": "bederfelijk", "sealed_hygiene": "verzegeld, hygiëne"},
    "en": {"custom_made": "custom-made", "perishable": "perishable", "sealed_hygiene": "sealed, hygiene"},
}

_MAIL = {
    "nl": {
        "subject": "Bevestiging van je herroeping, bestelling {number}",
        "body": "Hallo{name},\n\n"
                "We hebben je herroeping ontvangen op {when}.\n\n"
                "Bestelling: {number}\n"
                "Je herroept:\n{lines}\n"
                "{reason}"
                "Stuur de artikelen uiterlijk {send_back_by} terug. We betalen {amount} terug, uiterlijk "
                "{refund_due_on}, op dezelfde manier als je betaalde. We mogen wachten met terugbetalen tot we "
                "de artikelen terug hebben of je laat zien dat je ze hebt verstuurd.\n\n"
                "Bewaar deze e-mail: het is je bewijs van de herroeping.\n",
        "reason": "Reden: {reason}\n\n",
        "late": "Hallo{name},\n\n"
                "We hebben je herroeping ontvangen op {when}.\n\n"
                "Bestelling: {number}\n"
                "Je herroept:\n{lines}\n"
                "{reason}"
                "Volgens onze gegevens eindigde de bedenktijd op {period_ends_on}. We bekijken je herroeping en "
                "nemen contact met je op.\n\n"
                "Bewaar deze e-mail: het is je bewijs van de herroeping.\n",
        "exception": " (verzegeld hygiëneartikel: alleen terug te betalen als het nog verzegeld is)",
        "when": "d MMMM y 'om' HH:mm",
    },
    "en": {
        "subject": "Confirmation of your withdrawal, order {number}",
        "body": "Hello{name},\n\n"
                "We received your withdrawal on {when}.\n\n"
                "Order: {number}\n"
                "You withdraw from:\n{lines}\n"
                "{reason}"
                "Please send the items back by {send_back_by}. We will refund {amount} by {refund_due_on}, by "
                "the same means of payment you used. We may wait with the refund until we have the items back "
                "or you show us that you sent them.\n\n"
                "Keep this e-mail: it is your proof of the withdrawal.\n",
        "reason": "Reason: {reason}\n\n",
        "late": "Hello{name},\n\n"
                "We received your withdrawal on {when}.\n\n"
                "Order: {number}\n"
                "You withdraw from:\n{lines}\n"
                "{reason}"
                "According to our records the withdrawal period ended on {period_ends_on}. We will look at your "
                "withdrawal and get back to you.\n\n"
                "Keep this e-mail: it is your proof of the withdrawal.\n",
        "exception": " (sealed hygiene item: refunded only if it is still sealed)",
        "when": "d MMMM y 'at' HH:mm",
    },
}

_NOTES = {
    "nl": {
        "due_soon": "Terugbetaling herroeping bestelling {number} ({amount}) moet uiterlijk {due} gedaan zijn.",
        "breached": "Terugbetaling herroeping bestelling {number} ({amount}) is te laat: uiterlijk {due}.",
        "withhold": " De artikelen zijn nog niet terug en er is geen verzendbewijs: wachten mag tot een van beide er "
                    "is.",
    },
    "en": {
        "due_soon": "The refund for the withdrawal of order {number} ({amount}) is due by {due}.",
        "breached": "The refund for the withdrawal of order {number} ({amount}) is overdue: it was due by {due}.",
        "withhold": " The items are not back and there is no proof of sending: waiting until one of them is "
                    "allowed.",
    },
}


def language(value: str | None) -> str:
    return value if value in LANGUAGES else "nl"


def money(amount: Decimal, currency: str, lang: str) -> str:
    return format_currency(amount, currency, locale="nl_NL" if lang == "nl" else "en_GB")


def day(value: dt.date, lang: str) -> str:
    return format_date(value, "EEEE d MMMM y", locale=lang)


def moment(at: dt.datetime, zone: ZoneInfo, lang: str) -> str:
    """'24 november 2026 om 11:00' in the shop's zone."""
    return format_datetime(at, _MAIL[lang]["when"], tzinfo=zone, locale=lang)


def confirmation(case: ReturnCase, lines: list[ReturnLine], amount: Decimal, zone: ZoneInfo,
                 customer_name: str = "") -> tuple[str, str]:
    """The confirmation mail's subject and text."""
    lang = language(case.language)
    texts = _MAIL[lang]
    listed = "\n".join(
        f"- {line.quantity} × {line.name}" + (f" ({line.sku})" if line.sku else "")
        + (texts["exception"] if line.exception == "sealed_hygiene" else "")
        for line in lines)
    late = not case.in_time and case.period_ends_on is not None
    body = texts["late" if late else "body"].format(
        name=f" {customer_name}" if customer_name else "", when=moment(case.withdrawn_at, zone, lang),
        number=case.order_number, lines=listed + "\n",
        reason=texts["reason"].format(reason=case.reason) if case.reason else "",
        send_back_by=day(case.send_back_by, lang), amount=money(amount, case.currency, lang),
        refund_due_on=day(case.refund_due_on, lang),
        period_ends_on=day(case.period_ends_on, lang) if case.period_ends_on else "",
    )
    return texts["subject"].format(number=case.order_number), body


def opened_note(case: ReturnCase, amount: Decimal) -> str:
    """The agents' note beside the confirmation: where the case is and what is due."""
    lang = language(case.language)
    if lang == "nl":
        head = f"Herroeping van bestelling {case.order_number} vastgelegd: /returns/{case.id}."
        tail = (f" Terugbetalen ({money(amount, case.currency, lang)}) uiterlijk {day(case.refund_due_on, lang)}."
                if case.in_time else " Te laat: de bedenktijd eindigde "
                f"{day(case.period_ends_on, lang) if case.period_ends_on else ''}. Beslis en laat het de klant weten.")
        unknown = " Leverdatum onbekend: aanvaard als op tijd." if case.delivery_unknown else ""
    else:
        head = f"Withdrawal from order {case.order_number} recorded: /returns/{case.id}."
        tail = (f" Refund ({money(amount, case.currency, lang)}) due by {day(case.refund_due_on, lang)}."
                if case.in_time else " Too late: the withdrawal period ended "
                f"{day(case.period_ends_on, lang) if case.period_ends_on else ''}. Decide and tell the customer.")
        unknown = " Delivery date unknown: accepted as in time." if case.delivery_unknown else ""
    return head + unknown + tail


def agent_note(state: str, case: ReturnCase, amount: Decimal, may_withhold: bool) -> str:
    lang = language(case.language)
    texts = _NOTES[lang]
    note = texts[state].format(number=case.order_number, amount=money(amount, case.currency, lang),
                               due=day(case.refund_due_on, lang))
    return note + (texts["withhold"] if may_withhold else "")
