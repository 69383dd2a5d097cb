"""Public holidays of the Netherlands and Belgium, from the `holidays` package (kept up to date
there: Easter-based days, Koningsdag moving off a Sunday, and so on), as closed days for a
schedule.

A shop chooses whose holidays it keeps (`NL`, `BE` or none); its own closures and extra
openings (an open Tweede Pinksterdag, say) go on top and win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import holidays

from balie.errors import Invalid

COUNTRIES = ("NL", "BE")
# The language the package names each country's days in, as a shop there says them.
_LANGUAGES = {"NL": "nl", "BE": "nl"}


def check_country(country: str) -> str:
    country = country.strip().upper()
    if country not in COUNTRIES:
        raise Invalid(f"public holidays are known for {' and '.join(COUNTRIES)}, not {country[:8]!r}",
                      code="invalid_holiday_country")
    return country


def public_holidays(country: str, years: Iterable[int]) -> dict[dt.date, str]:
    """The country's public holidays in these years: date → name (in Dutch)."""
    country = check_country(country)
    found = holidays.country_holidays(country, years=sorted(set(years)), language=_LANGUAGES[country])
    return dict(sorted(found.items()))


def around(at: dt.datetime) -> range:
    """The years a search from `at` can reach (a search looks a year ahead at most)."""
    return range(at.year - 1, at.year + 2)
