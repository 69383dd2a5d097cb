"""The UI's languages: gettext catalogs read from the .po files at start-up, one Jinja2
environment per language, and the formatting that depends on the language.

The .po files are compiled in memory (write_mo into a buffer), so no binary .mo file
lives in the repository and a translation fix is a one-line text change.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import Translations
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from balie import clock

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LANGUAGE_COOKIE = "balie_lang"
DOMAIN = "balie"
# Shops are Dutch and Belgian: times are shown, and typed, in this zone.
SHOP_ZONE = ZoneInfo("Europe/Amsterdam")

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> Translations:
    with catalog_path(language).open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Language:
    """What a request speaks: its code and the translations to use from Python."""

    code: str

    @property
    def translations(self) -> Translations:
        return translations(self.code)

    def gettext(self, message: str, **values: Any) -> str:
        text: str = self.translations.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, count: int, **values: Any) -> str:
        text: str = self.translations.ngettext(singular, plural, count)
        return text % {"num": count, **values}


def language_of(request: Request, default: str = DEFAULT_LANGUAGE) -> Language:
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return Language(chosen)
    return Language(default if default in LANGUAGES else DEFAULT_LANGUAGE)


# --- formatting ----------------------------------------------------------------------


def in_shop_zone(value: dt.datetime) -> dt.datetime:
    return value.astimezone(SHOP_ZONE)


def duration(language: Language, since: dt.datetime, now: dt.datetime) -> str:
    """A short span: '12 min' / '3 u' / '2 d' in Dutch, '12m' / '3h' / '2d' in English."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return language.gettext("%(minutes)dm", minutes=minutes)
    if minutes < 48 * 60:
        return language.gettext("%(hours)dh", hours=minutes // 60)
    return language.gettext("%(days)dd", days=minutes // (24 * 60))


def waiting(language: Language, since: dt.datetime | None, now: dt.datetime) -> str:
    if since is None:
        return ""
    return language.gettext("waiting %(span)s", span=duration(language, since, now))


def moment(language: Language, value: dt.datetime | None, now: dt.datetime) -> str:
    """A time as an agent wants to read it: today only the clock, else the date too."""
    if value is None:
        return ""
    local, today = in_shop_zone(value), in_shop_zone(now)
    if local.date() == today.date():
        pattern = "HH:mm"
    elif local.year == today.year:
        pattern = "d MMM HH:mm"
    else:
        pattern = "d MMM yyyy HH:mm"
    return _formatted(language.code, local.replace(second=0, microsecond=0), pattern)


def full_moment(language: Language, value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = in_shop_zone(value).replace(second=0, microsecond=0)
    return _formatted(language.code, local, "EEEE d MMMM yyyy HH:mm")


@functools.lru_cache(maxsize=8192)
def _formatted(code: str, local_minute: dt.datetime, pattern: str) -> str:
    # Babel takes about 40 µs a call and the inbox shows three times a row, over and over
    # for the same conversations: the text depends only on language, minute and pattern.
    return str(format_datetime(local_minute, pattern, tzinfo=SHOP_ZONE, locale=code))


def local_input(value: dt.datetime | None) -> str:
    """The value a datetime-local input shows: shop time, minutes precision."""
    return in_shop_zone(value).strftime("%Y-%m-%dT%H:%M") if value else ""


# --- templates -----------------------------------------------------------------------


@functools.cache
def environment(code: str) -> Environment:
    """One environment per language, so rendering needs no per-request translation state."""
    language = Language(code)
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the package and change only with a new release (restart the
        # server after editing one); checking the files' times cost 3 % of an inbox page.
        auto_reload=False,
    )
    env.install_gettext_translations(language.translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = code
    env.filters["waiting"] = lambda since: waiting(language, since, clock.now())
    env.filters["moment"] = lambda value: moment(language, value, clock.now())
    env.filters["full_moment"] = lambda value: full_moment(language, value)
    env.filters["iso"] = lambda value: value.isoformat() if value else ""
    env.filters["day"] = lambda value: str(format_date(value, "EEE d MMM yyyy", locale=code)) if value else ""
    env.filters["money"] = lambda amount, currency: str(format_currency(amount, currency, locale=code))

    @functools.cache
    def icon(name: str, label: str = "") -> Markup:
        """An _icons.html icon, rendered once: the inbox shows two a row, and a macro call
        cost more than the rest of the row."""
        return Markup(env.get_template("_icons.html").module.svg(name, label))  # type: ignore[attr-defined]  # noqa: S704 (escaped by the template)

    env.globals["icon"] = icon

    @functools.cache
    def fixed(template: str) -> Markup:
        """A part that depends on nothing but the language (the shortcut help), rendered once."""
        return Markup(env.get_template(template).render())  # noqa: S704 (escaped by the template)

    env.globals["fixed"] = fixed

    @functools.lru_cache(maxsize=64)
    def _translated(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
        return {key: language.gettext(label) for key, label in items}

    def translated(labels: dict[str, str]) -> dict[str, str]:
        """A table of labels (`N_` markers) in this language: once per table, not per row."""
        return _translated(tuple(labels.items()))

    env.globals["translated"] = translated
    return env
