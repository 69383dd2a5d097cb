"""Checks on commerce values from outside (API, webhooks, CSV): each names the field that is
wrong, so a rejected row or payload says what to fix."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import babel.numbers

from balie.errors import Invalid
from balie.inputs import check_line

# ISO 4217, from Babel's CLDR data (kept current with the package; no list of our own).
CURRENCIES = frozenset(babel.numbers.list_currencies())
MAX_MONEY = Decimal("9999999999.99")  # Numeric(12, 2)


def line(value: object, field: str, *, max_length: int, required: bool = True) -> str:
    """A one-line text: stripped, no control characters, not too long."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"{field}: expected text", code="invalid_field")
    try:
        value = check_line(value, field).strip()
    except Invalid:
        raise Invalid(f"{field}: contains a control or invalid character", code="invalid_field") from None
    if required and not value:
        raise Invalid(f"{field}: required", code="invalid_field")
    if len(value) > max_length:
        raise Invalid(f"{field}: longer than {max_length} characters", code="invalid_field")
    return value


def money(value: object, field: str, *, required: bool = True) -> Decimal | None:
    """An amount of at most two decimals, not negative ("12.50", 12.5 or Decimal)."""
    if value is None or value == "":
        if required:
            raise Invalid(f"{field}: required", code="invalid_field")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise Invalid(f"{field}: expected an amount such as 12.50", code="invalid_field")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid(f"{field}: {str(value)[:40]!r} is not an amount", code="invalid_field") from None
    if not amount.is_finite():
        raise Invalid(f"{field}: not a finite amount", code="invalid_field")
    if amount < 0:
        raise Invalid(f"{field}: must not be negative", code="invalid_field")
    if amount > MAX_MONEY:
        raise Invalid(f"{field}: larger than {MAX_MONEY}", code="invalid_field")
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid(f"{field}: more than two decimals", code="invalid_field")
    return amount.quantize(Decimal("0.01"))


def quantity(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{field}: expected a whole number", code="invalid_field")
    if value < 1:
        raise Invalid(f"{field}: must be at least 1 (got {value})", code="invalid_field")
    if value > 1_000_000:
        raise Invalid(f"{field}: larger than 1000000", code="invalid_field")
    return value


def currency(value: object, field: str = "currency") -> str:
    code = line(value, field, max_length=3).upper()
    if code not in CURRENCIES:
        raise Invalid(f"{field}: {code!r} is not an ISO 4217 currency code (such as EUR)", code="invalid_currency")
    return code


def moment(value: object, field: str, *, required: bool = True) -> dt.datetime | None:
    """An aware moment; a time without a zone is refused rather than guessed."""
    if value is None:
        if required:
            raise Invalid(f"{field}: required", code="invalid_field")
        return None
    if not isinstance(value, dt.datetime):
        raise Invalid(f"{field}: expected a date and time", code="invalid_field")
    if value.tzinfo is None:
        raise Invalid(f"{field}: give a time zone (for example 2026-11-24T10:00:00+01:00)", code="invalid_field")
    if not dt.datetime(1990, 1, 1, tzinfo=dt.UTC) <= value <= dt.datetime(2200, 1, 1, tzinfo=dt.UTC):
        raise Invalid(f"{field}: {value.isoformat()} is out of range", code="invalid_field")
    return value.astimezone(dt.UTC)


def url(value: object, field: str) -> str | None:
    if value is None or value == "":
        return None
    text = line(value, field, max_length=2000)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(f"{field}: expected an http or https address", code="invalid_field")
    return text
