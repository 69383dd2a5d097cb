"""A shop's widget settings as its admins change them: which sites may embed the widget, the
contact details the widget shows besides chat, the call-back promise, and the secret.

Every value is checked before anything is stored, so a form with one wrong field changes
nothing. Errors carry a code per field (`invalid_origin`, `invalid_phone`, ...) that the
settings page shows beside that field.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import phonenumbers
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from balie import clock
from balie.channels.chat.models import WidgetSettings
from balie.errors import Invalid

T = TypeVar("T")
MAX_ORIGINS = 50
CALLBACK_MINUTES = (5, 7 * 24 * 60)
CALLBACK_ATTEMPTS = (1, 10)
# A number typed without a country code is read as one of this zone's country.
_REGION_BY_ZONE = {"Europe/Brussels": "BE", "Europe/Amsterdam": "NL", "Europe/Luxembourg": "LU",
                   "Europe/Berlin": "DE", "Europe/Paris": "FR", "Europe/London": "GB"}


class FieldInvalid(Invalid):
    """An invalid value of one field; `field` names it for the form."""

    def __init__(self, field: str, detail: str, *, code: str) -> None:
        super().__init__(detail, code=code)
        self.field = field


class SettingsInvalid(Invalid):
    """Every field that is wrong at once, so the admin sees all of it."""

    def __init__(self, problems: list[FieldInvalid]) -> None:
        super().__init__("; ".join(problem.detail for problem in problems), code="invalid_widget_settings")
        self.problems = problems


@dataclass(frozen=True)
class WidgetChanges:
    enabled: bool
    allowed_origins: str  # one a line, as typed
    phone: str
    whatsapp: str
    email: str
    callback_minutes: str
    callback_attempts: str


def get(session: Session, shop_id: int) -> WidgetSettings | None:
    return session.get(WidgetSettings, shop_id)


def get_or_create(session: Session, shop_id: int) -> WidgetSettings:
    """The shop's row, made with the defaults and a fresh secret when it has none yet."""
    found = session.get(WidgetSettings, shop_id)
    if found is None:
        # Several widgets of a new shop connect at once: insert unless another request just did,
        # then read whichever row won (a plain INSERT made all but one fail with a 500).
        values = {"shop_id": shop_id, "secret": new_secret(), "enabled": True, "allowed_origins": "", "phone": "",
                  "whatsapp": "", "email": "", "callback_minutes": 30, "callback_attempts": 3,
                  "updated_at": clock.now()}
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(WidgetSettings).values(**values).on_conflict_do_nothing(index_elements=["shop_id"]))
        found = session.get_one(WidgetSettings, shop_id)
    return found


def new_secret() -> str:
    return "wsec_" + secrets.token_urlsafe(32)


def rotate_secret(session: Session, shop_id: int) -> str:
    """A new secret: customer tokens signed with the old one stop being accepted at once."""
    widget = get_or_create(session, shop_id)
    widget.secret = new_secret()
    widget.updated_at = clock.now()
    session.flush()
    return widget.secret


def update(session: Session, shop_id: int, changes: WidgetChanges, *, time_zone: str = "") -> WidgetSettings:
    """Checks every field, then stores them all; raises SettingsInvalid (nothing stored)."""
    problems: list[FieldInvalid] = []
    region = _REGION_BY_ZONE.get(time_zone, "NL")
    origins = _collect(problems, lambda: normalise_origins(changes.allowed_origins))
    phone = _collect(problems, lambda: normalise_phone(changes.phone, region, "phone"))
    whatsapp = _collect(problems, lambda: normalise_phone(changes.whatsapp, region, "whatsapp"))
    email = _collect(problems, lambda: normalise_email(changes.email))
    minutes = _collect(problems, lambda: _number("callback_minutes", changes.callback_minutes, *CALLBACK_MINUTES))
    attempts = _collect(problems, lambda: _number("callback_attempts", changes.callback_attempts, *CALLBACK_ATTEMPTS))
    if problems:
        raise SettingsInvalid(problems)
    assert origins is not None and phone is not None and whatsapp is not None and email is not None
    assert minutes is not None and attempts is not None
    widget = get_or_create(session, shop_id)
    widget.enabled = changes.enabled
    widget.allowed_origins = "\n".join(origins)
    widget.phone, widget.whatsapp, widget.email = phone, whatsapp, email
    widget.callback_minutes, widget.callback_attempts = minutes, attempts
    widget.updated_at = clock.now()
    session.flush()
    return widget


def _collect(problems: list[FieldInvalid], check: Callable[[], T]) -> T | None:
    try:
        return check()
    except FieldInvalid as problem:
        problems.append(problem)
        return None


def origins_of(widget: WidgetSettings | None) -> list[str]:
    """The stored origins (already normalised); empty: any site may embed the widget."""
    if widget is None:
        return []
    return [line for line in widget.allowed_origins.splitlines() if line.strip()]


def normalise_origins(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_ORIGINS:
        raise FieldInvalid("allowed_origins", f"at most {MAX_ORIGINS} sites", code="too_many_origins")
    origins: list[str] = []
    for line in lines:
        origin = normalise_origin(line)
        if origin not in origins:
            origins.append(origin)
    return origins


def normalise_origin(text: str) -> str:
    """'https://Shop.example/' → 'https://shop.example': what a browser sends as Origin.
    International names become their xn-- form, as browsers send them."""
    value = text.strip()
    problem = FieldInvalid("allowed_origins", f"not a site address: {value[:80]!r} (write https://yourshop.nl)",
                           code="invalid_origin")
    if len(value) > 300 or any(c.isspace() or ord(c) < 32 for c in value):
        raise problem
    try:
        parts = urlsplit(value)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError) as error:
        raise problem from error
    if (parts.scheme.lower() not in ("http", "https") or not host or parts.username or parts.password
            or parts.path not in ("", "/") or parts.query or parts.fragment or "*" in host):
        raise problem
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}[scheme]
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def normalise_phone(text: str, region: str = "NL", field: str = "phone") -> str:
    """A phone number in E.164 ('+31201234567'); empty stays empty (not offered)."""
    value = text.strip()
    if not value:
        return ""
    problem = FieldInvalid(field, f"not a phone number: {value[:40]!r}", code="invalid_phone")
    if len(value) > 40:
        raise problem
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        raise problem from error
    if not phonenumbers.is_valid_number(number):
        raise problem
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise_email(text: str) -> str:
    value = text.strip()
    if not value:
        return ""
    local, at, domain = value.rpartition("@")
    if (not at or not local or "." not in domain or len(value) > 320
            or any(c.isspace() or c in "<>,;\"()[]\\" or ord(c) < 32 for c in value)):
        raise FieldInvalid("email", f"not an e-mail address: {value[:80]!r}", code="invalid_email")
    return f"{local}@{domain.lower()}"


def _number(field: str, text: str, low: int, high: int) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdecimal() and len(value) <= 6 and low <= int(value) <= high):
        raise FieldInvalid(field, f"a whole number from {low} to {high}", code="invalid_number")
    return int(value)
