"""What follow-ups write in the conversation, in the shop's language (Dutch or English) and
with times in the shop's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime

LANGUAGES = ("nl", "en")
DEFAULT_ZONE = "Europe/Amsterdam"

_TEXTS = {
    "nl": {
        "scheduled": "Follow-up gepland voor {when}: {note}",
        "cancelled": "Follow-up voor {when} geannuleerd.",
        "due": "Follow-up van {agent}: {note}",
        "unassigned": "{agent} werkt niet meer in deze winkel; het gesprek is daarom niet toegewezen.",
        "someone": "een collega",
        "when": "EEEE d MMMM yyyy 'om' HH:mm",
    },
    "en": {
        "scheduled": "Follow-up scheduled for {when}: {note}",
        "cancelled": "Follow-up for {when} cancelled.",
        "due": "Follow-up from {agent}: {note}",
        "unassigned": "{agent} no longer works in this shop, so the conversation is not assigned to anyone.",
        "someone": "a colleague",
        "when": "EEEE d MMMM yyyy 'at' HH:mm",
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


def when(code: str, value: dt.datetime, zone_name: str | None) -> str:
    code, time_zone = language(code), zone(zone_name)
    local = value.astimezone(time_zone).replace(second=0, microsecond=0)
    return str(format_datetime(local, _TEXTS[code]["when"], tzinfo=time_zone, locale=code))
