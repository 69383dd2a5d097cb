"""What call-backs say, in Dutch and English: the promise to the customer, the request as it
lands in the inbox, the agents' notes on each try, and the message after the last try.

Texts for the customer follow the call-back's language; texts for agents follow the shop's."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime

LANGUAGES = ("nl", "en")
DEFAULT_ZONE = "Europe/Amsterdam"

_TEXTS = {
    "nl": {
        "within": "We bellen je binnen {minutes} minuten terug.",
        "by": "We bellen je uiterlijk {when} terug.",
        "subject": "Terugbelverzoek",
        "request": "Terugbelverzoek: graag bellen naar {phone}.",
        "name": "Naam: {name}",
        "topic": "Onderwerp: {topic}",
        "asap": "Wanneer: zo snel mogelijk",
        "window": "Wanneer: tussen {start} en {end}",
        "promised": "Beloofd: {promise}",
        "reached": "Teruggebeld naar {phone}: bereikt.",
        "no_answer": "Teruggebeld naar {phone}: geen gehoor (poging {attempts} van {max}). Opnieuw uiterlijk {when}.",
        "wrong_number": "Teruggebeld naar {phone}: verkeerd nummer.",
        "gave_up": "Teruggebeld naar {phone}: geen gehoor na {attempts} pogingen. De klant krijgt een bericht.",
        "unreachable": "Teruggebeld naar {phone}: geen gehoor na {attempts} pogingen. De klant heeft geen e-mail "
                       "of chat waarop we een bericht kunnen sturen: neem zelf contact op als dat kan.",
        "note": "Notitie: {note}",
        "gave_up_subject": "We konden je niet bereiken",
        "gave_up_message": "Hallo{name},\n\nJe vroeg ons je terug te bellen op {phone}. We hebben het {attempts} keer "
                           "geprobeerd, maar we konden je helaas niet bereiken.\n\nAntwoord gerust op dit bericht, "
                           "of vraag opnieuw om teruggebeld te worden op een moment dat je beter uitkomt.",
        "when": "EEEE d MMMM 'om' HH:mm",
        "time": "d MMMM HH:mm",
    },
    "en": {
        "within": "We will call you back within {minutes} minutes.",
        "by": "We will call you back by {when}.",
        "subject": "Call-back request",
        "request": "Call-back request: please call {phone}.",
        "name": "Name: {name}",
        "topic": "Topic: {topic}",
        "asap": "When: as soon as possible",
        "window": "When: between {start} and {end}",
        "promised": "Promised: {promise}",
        "reached": "Called back {phone}: reached.",
        "no_answer": "Called back {phone}: no answer (try {attempts} of {max}). Again by {when}.",
        "wrong_number": "Called back {phone}: wrong number.",
        "gave_up": "Called back {phone}: no answer after {attempts} tries. The customer gets a message.",
        "unreachable": "Called back {phone}: no answer after {attempts} tries. The customer has no e-mail or chat "
                       "we can send a message to: contact them another way if you can.",
        "note": "Note: {note}",
        "gave_up_subject": "We could not reach you",
        "gave_up_message": "Hello{name},\n\nYou asked us to call you back on {phone}. We tried {attempts} times, "
                           "but unfortunately we could not reach you.\n\nFeel free to answer this message, or ask "
                           "for a call-back again at a time that suits you better.",
        "when": "EEEE d MMMM 'at' HH:mm",
        "time": "d MMMM HH:mm",
    },
}


def language(code: str | None) -> str:
    return code if code in LANGUAGES else "nl"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def text(code: str, key: str, **values: object) -> str:
    return _TEXTS[language(code)][key].format(**values)


def when(code: str, value: dt.datetime, time_zone: ZoneInfo, pattern: str = "when") -> str:
    code = language(code)
    local = value.astimezone(time_zone).replace(second=0, microsecond=0)
    return str(format_datetime(local, _TEXTS[code][pattern], tzinfo=time_zone, locale=code))


def promise(*, asap_minutes: int | None, due_at: dt.datetime, created_at: dt.datetime,
            time_zone: ZoneInfo) -> dict[str, str]:
    """"Within N minutes" when an as-soon-as-possible request is due that soon; else the moment."""
    minutes = math.ceil((due_at - created_at).total_seconds() / 60)
    if asap_minutes is not None and 0 <= minutes <= asap_minutes:
        return {code: text(code, "within", minutes=asap_minutes) for code in LANGUAGES}
    return {code: text(code, "by", when=when(code, due_at, time_zone)) for code in LANGUAGES}
