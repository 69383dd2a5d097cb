"""Checks on what a call-back request carries: the number (E.164, a number that exists), the
name, the topic, the time window and an e-mail address; each refusal is a 400 with its own code."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import phonenumbers

from balie.customers import service as customer_service
from balie.customers.service import IdentityRef
from balie.errors import Invalid
from balie.inputs import check_line, check_text

MAX_PHONE = 64
MAX_NAME = 200
MAX_TOPIC = 2000
MAX_AHEAD = dt.timedelta(days=60)


class Window(NamedTuple):
    """The customer's time window (aware datetimes); None instead of a window: as soon as possible."""

    start: dt.datetime
    end: dt.datetime


def phone_region(time_zone: str) -> str:
    """Numbers typed without a country code: Belgian in a Brussels shop, else Dutch."""
    return "BE" if time_zone == "Europe/Brussels" else customer_service.DEFAULT_PHONE_REGION


def normalise_phone(value: str, region: str = customer_service.DEFAULT_PHONE_REGION) -> str:
    """E.164 (+31612345678), or a 400 that says what is wrong. Stricter than a customer's phone
    identity: we are going to dial it, so it must be a number that exists, not just a possible one."""
    check_line(value, "phone")
    value = value.strip()
    if not value:
        raise Invalid("phone is empty", code="invalid_phone")
    if len(value) > MAX_PHONE:
        raise Invalid(f"phone is longer than {MAX_PHONE} characters", code="invalid_phone")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise Invalid(f"not a phone number: {value!r}", code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid(f"not a valid phone number: {value!r} (add the country code, for example +32)",
                      code="invalid_phone")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def name(value: str) -> str:
    name = check_line(value, "name").strip()
    if len(name) > MAX_NAME:
        raise Invalid(f"name is longer than {MAX_NAME} characters", code="invalid_name")
    return name


def topic(value: str) -> str:
    check_text(value, "topic")
    topic = value.replace("\r\n", "\n").strip()
    if len(topic) > MAX_TOPIC:
        raise Invalid(f"topic is longer than {MAX_TOPIC} characters", code="invalid_topic")
    if any(ord(c) < 32 and c not in "\n\t" for c in topic) or "\x7f" in topic:
        raise Invalid("topic contains a control character", code="invalid_text")
    return topic


def window(window: tuple[dt.datetime, dt.datetime] | None, now: dt.datetime) -> Window | None:
    if window is None:
        return None
    start, end = window
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("window start and end need a timezone (2026-12-01T09:00:00+01:00)", code="invalid_window")
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end <= start:
        raise Invalid("window end must be after its start", code="invalid_window")
    if end <= now:
        raise Invalid("window is in the past", code="invalid_window")
    if start > now + MAX_AHEAD:
        raise Invalid(f"window starts more than {MAX_AHEAD.days} days ahead", code="invalid_window")
    return Window(start, end)


def email(value: str | None) -> IdentityRef | None:
    if value is None or not value.strip():
        return None
    try:
        return customer_service.normalise("email", value)
    except Invalid as error:
        raise Invalid(error.detail, code="invalid_address") from None
