"""The automatic acknowledgement: what Balie answers at once when a customer writes, and when
it keeps quiet. Pure; the channel sends the text through the one reply path.

The text names the real moment from the SLA and the opening hours, as a person would say it
in the customer's language and the shop's time zone: "vandaag om 16:00", "morgen om 10:00",
"maandag om 09:30", further out with the date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

LANGUAGES = ("nl", "en")
QUIET_HOURS = 4  # no second acknowledgement on a conversation within this many hours

_TEXTS = {
    "nl": {
        "by": "We hebben je bericht ontvangen. Je hoort uiterlijk {when} van ons.",
        "soon": "We hebben je bericht ontvangen en antwoorden zo snel mogelijk.",
        "today": "vandaag om {time}", "tomorrow": "morgen om {time}", "week": "EEEE 'om' HH:mm",
        "later": "EEEE d MMMM 'om' HH:mm",
    },
    "en": {
        "by": "We have received your message. You will hear from us by {when}.",
        "soon": "We have received your message and will answer as soon as we can.",
        "today": "{time} today", "tomorrow": "{time} tomorrow", "week": "HH:mm 'on' EEEE",
        "later": "HH:mm 'on' EEEE d MMMM",
    },
}


def when_phrase(due_at: dt.datetime, now: dt.datetime, zone: ZoneInfo, language: str) -> str:
    """'morgen om 10:00' / '10:00 tomorrow': the due moment as said to a customer."""
    texts = _TEXTS[language if language in LANGUAGES else "nl"]
    due, today = due_at.astimezone(zone), now.astimezone(zone).date()
    days = (due.date() - today).days
    time = due.strftime("%H:%M")
    if days <= 0:
        return texts["today"].format(time=time)
    if days == 1:
        return texts["tomorrow"].format(time=time)
    pattern = texts["week"] if days < 7 else texts["later"]
    return format_datetime(due, pattern, tzinfo=zone, locale=language if language in LANGUAGES else "nl")


def acknowledgement(due_at: dt.datetime | None, now: dt.datetime, zone: ZoneInfo, language: str) -> str:
    """The text; without a due moment (no target for the channel) it promises no time."""
    texts = _TEXTS[language if language in LANGUAGES else "nl"]
    if due_at is None:
        return texts["soon"]
    return texts["by"].format(when=when_phrase(due_at, now, zone, language))


@dataclass(frozen=True)
class Inbound:
    """What decides whether a customer's message gets an acknowledgement."""

    enabled: bool  # the shop turned it on for this channel
    auto_reply: bool = False  # an out-of-office or other automatic mail
    bounce: bool = False  # a delivery failure report
    blocked: bool = False  # the customer is blocked or muted
    last_acknowledged_at: dt.datetime | None = None  # on this conversation


def should_acknowledge(inbound: Inbound, now: dt.datetime) -> tuple[bool, str]:
    """Whether to answer, and why not (for the conversation's log)."""
    if not inbound.enabled:
        return False, "acknowledgements are off for this channel"
    if inbound.bounce:
        return False, "a bounce"
    if inbound.auto_reply:
        return False, "an automatic reply"
    if inbound.blocked:
        return False, "the customer is blocked"
    last = inbound.last_acknowledged_at
    if last is not None and now - last < dt.timedelta(hours=QUIET_HOURS):
        return False, f"already acknowledged within {QUIET_HOURS} hours"
    return True, "acknowledged"
