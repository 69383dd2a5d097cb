"""Public holidays of the Netherlands and Belgium, from the `holidays` package (kept up to date
there: Easter-based days, Koningsdag moving off a Sunday, and so on), as closed days for a
schedule.

A shop chooses whose holidays it keeps (`NL`, `BE` or none); its own closures and extra
openings (an open Tweede Pinksterdag, say) go on top and win. The names are for people
reading a page: in that page's language where the package has it, else the country's own.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import holidays

from balie.errors import Invalid

COUNTRIES = ("NL", "BE")
# The country's own language for the names, as a shop there says them: what a page in a
# language the package has no names in gets.
_OWN_LANGUAGES = {"NL": "nl", "BE": "nl"}


def check_country(country: str) -> str:
    country = country.strip().upper()
    if country not in COUNTRIES:
        raise Invalid(f"public holidays are known for {' and '.join(COUNTRIES)}, not {country[:8]!r}",
                      code="invalid_holiday_country")
    return country


@functools.lru_cache(maxsize=32)
def names_language(country: str, language: str | None = None) -> str:
    """The package's code for naming the country's days in `language` (a page's code, such as
    "en"): that code, else the package's regional form of it ("en_US"), else the country's own
    language. Always a code the package has: given one it lacks (or none), it would fall back to
    the machine's locale, or to the English it is written in."""
    country = check_country(country)
    supported = sorted(holidays.country_holidays(country).supported_languages)
    if language in supported:
        return language
    regional = [code for code in supported if code.split("_")[0] == language]
    return regional[0] if regional else _OWN_LANGUAGES[country]


def public_holidays(country: str, years: Iterable[int], language: str | None = None) -> dict[dt.date, str]:
    """The country's public holidays in these years: date → name, in `language` where the
    package has it, else in the country's own (Dutch for both)."""
    country = check_country(country)
    found = holidays.country_holidays(country, years=sorted(set(years)),
                                      language=names_language(country, language))
    return dict(sorted(found.items()))


def around(at: dt.datetime) -> range:
    """The years a search from `at` can reach (a search looks a year ahead at most)."""
    return range(at.year - 1, at.year + 2)
