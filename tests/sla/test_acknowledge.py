"""The automatic acknowledgement says the real due moment the way a person would, in the
customer's language, and keeps quiet for bounces, auto-replies, blocked customers and repeats."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from balie.sla.acknowledge import QUIET_HOURS, Inbound, acknowledgement, should_acknowledge, when_phrase

AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 11, 24, 21, 30, tzinfo=AMS)  # a Tuesday evening


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)  # type: ignore[misc]


@pytest.mark.parametrize(("due", "nl", "en"), [
    (at(2026, 11, 24, 23, 0), "vandaag om 23:00", "23:00 today"),
    (at(2026, 11, 25, 10, 0), "morgen om 10:00", "10:00 tomorrow"),
    (at(2026, 11, 30, 9, 30), "maandag om 09:30", "09:30 on Monday"),
    (at(2026, 12, 3, 10, 0), "donderdag 3 december om 10:00", "10:00 on Thursday 3 December"),
])
def test_the_due_moment_as_a_customer_reads_it(due: dt.datetime, nl: str, en: str) -> None:
    assert when_phrase(due, NOW, AMS, "nl") == nl
    assert when_phrase(due, NOW, AMS, "en") == en


def test_the_moment_is_said_in_the_shops_zone_whatever_zone_it_comes_in() -> None:
    due_utc = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # 10:00 in Amsterdam
    assert when_phrase(due_utc, NOW.astimezone(dt.UTC), AMS, "nl") == "morgen om 10:00"


def test_the_whole_text_in_both_languages() -> None:
    due = at(2026, 11, 25, 10, 0)
    assert acknowledgement(due, NOW, AMS, "nl") == ("We hebben je bericht ontvangen. "
                                                     "Je hoort uiterlijk morgen om 10:00 van ons.")
    assert acknowledgement(due, NOW, AMS, "en") == ("We have received your message. "
                                                     "You will hear from us by 10:00 tomorrow.")
    assert acknowledgement(due, NOW, AMS, "fr").startswith("We hebben")  # unknown language: the shop's Dutch
    assert acknowledgement(None, NOW, AMS, "nl") == "We hebben je bericht ontvangen en antwoorden zo snel mogelijk."


@pytest.mark.parametrize(("inbound", "reason"), [
    (Inbound(enabled=False), "acknowledgements are off for this channel"),
    (Inbound(enabled=True, bounce=True), "a bounce"),
    (Inbound(enabled=True, auto_reply=True), "an automatic reply"),
    (Inbound(enabled=True, blocked=True), "the customer is blocked"),
    (Inbound(enabled=True, last_acknowledged_at=NOW - dt.timedelta(hours=QUIET_HOURS, seconds=-1)),
     f"already acknowledged within {QUIET_HOURS} hours"),
])
def test_when_balie_keeps_quiet(inbound: Inbound, reason: str) -> None:
    assert should_acknowledge(inbound, NOW) == (False, reason)


def test_it_answers_a_new_message_and_again_after_the_quiet_hours() -> None:
    assert should_acknowledge(Inbound(enabled=True), NOW) == (True, "acknowledged")
    later = Inbound(enabled=True, last_acknowledged_at=NOW - dt.timedelta(hours=QUIET_HOURS))
    assert should_acknowledge(later, NOW)[0]
