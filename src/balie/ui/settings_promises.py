"""The delivery promises settings page (shop admins only): whether Balie watches the shop's
delivery promises, the cut-off and transit days, the channel, the compensation rules and the
notice per language, and the figures (commerce/promises, docs/promises.md).

A plain form with the CSRF token, as on the other settings pages; the service checks every
field and names the wrong one, and nothing is stored from a form with a wrong field. The page
says what is wrong in the admin's language (the service's own words are the API's, English).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from balie.commerce.promises import settings as promise_settings
from balie.commerce.promises import stats, texts
from balie.commerce.promises.models import CHANNEL_PREFERENCES, LANGUAGES
from balie.commerce.promises.settings import SettingInvalid
from balie.ui import pages
from balie.ui.auth import Agent, CheckedAgent, Signed, require_admin
from balie.ui.i18n import Language
from balie.ui.inbox import chrome
from balie.ui.listing import ListQuery
from balie.ui.routing import N_, UiRoute
from balie.ui.settings_widget import Posted
from balie.web.deps import DB

router = APIRouter(route_class=UiRoute, include_in_schema=False)
BASE = "/settings/promises"
RULE_ROWS = 5
CHANNEL_LABELS = {"auto": N_("Where the customer talks to us (chat), else e-mail"), "email": N_("E-mail")}
LANGUAGE_LABELS = {"nl": N_("Dutch"), "en": N_("English")}
# The fields as the form labels them (the service names them as the API does).
FIELD_LABELS = {
    "cutoff": N_("Dispatch cut-off"), "transit_days": N_("Days in transit before a parcel is stuck"),
    "extra_days": N_("Days a recovered parcel needs"), "channel": N_("Tell the customer by"),
    "carriers": N_("Per carrier"), "templates": N_("The messages"), "compensation": N_("Compensation"),
}
CARRIER_LABEL = N_("Per carrier, %(carrier)s")
TEMPLATE_LABELS = {"subject": N_("Subject of the message in %(language)s"),
                   "body": N_("Text of the message in %(language)s")}
RULE_LABELS = {"min_days_late": N_("Rule %(number)s, from days late"),
               "min_order_total": N_("Rule %(number)s, order total at least"),
               "amount": N_("Rule %(number)s, voucher")}
# One message per promise_settings.PROBLEMS, with the values the service gives.
MESSAGES = {
    "time": N_("Enter a time such as 22:00 (hours and minutes)."),
    "choice": N_("Choose one of the options."),
    "too_many_carriers": N_("At most %(count)s carriers."),
    "carrier_name": N_("A carrier's name has 1 to 64 characters."),
    "whole_number": N_("Enter a whole number from %(low)s to %(high)s."),
    "language": N_("Only Dutch and English messages can be set."),
    "characters": N_("This contains a character that cannot be used here (such as a line break in a subject)."),
    "length": N_("Enter 1 to %(high)s characters."),
    "variable": N_("Balie does not know the variable %(variable)s. You can use the variables listed below the "
                   "messages."),
    "amount": N_("Enter an amount such as 12.50 (not negative, at most two decimals)."),
    "more_than_zero": N_("Enter an amount of more than 0."),
    "too_many_rules": N_("At most %(count)s rules."),
}
CARRIER = re.compile(r"^carriers\.(?P<carrier>.+)$")
TEMPLATE = re.compile(r"^templates\.(?P<code>\w+)\.(?P<part>subject|body)$")
RULE = re.compile(r"^compensation\[(?P<index>\d+)\]\.(?P<part>\w+)$")


def _form_of(found: promise_settings.Settings) -> dict[str, str]:
    form = {"enabled": "on" if found.enabled else "", "cutoff": found.cutoff,
            "transit_days": str(found.transit_days), "extra_days": str(found.extra_days), "channel": found.channel,
            "carriers": "\n".join(f"{name}: {days}" for name, days in sorted(found.carriers.items()))}
    for index in range(RULE_ROWS):
        rule = found.rules[index] if index < len(found.rules) else None
        form[f"rule{index}_days"] = str(rule.min_days_late) if rule else ""
        form[f"rule{index}_total"] = str(rule.min_order_total) if rule else ""
        form[f"rule{index}_amount"] = str(rule.amount) if rule else ""
    for code in LANGUAGES:
        form[f"{code}_subject"] = found.templates[code].subject
        form[f"{code}_body"] = found.templates[code].body
    return form


def _page(request: Request, db: Session, signed: Signed, *, form: dict[str, str] | None = None, error: str = "",
          status: int = 200) -> Response:
    found = promise_settings.load(db, signed.actor.shop_id)
    figures = stats.of_shop(db, signed.actor.shop_id)
    values: dict[str, Any] = {
        **chrome(db, signed), "query": ListQuery(), "settings_page": "promises",
        "notice": N_("Changes saved.") if request.query_params.get("notice") == "saved" else None,
        "form": form or _form_of(found), "error": error, "saved": found.saved, "rule_rows": range(RULE_ROWS),
        "languages": LANGUAGES, "language_labels": LANGUAGE_LABELS, "channels": CHANNEL_PREFERENCES,
        "channel_labels": CHANNEL_LABELS, "figures": figures,
        "variables": ["{{" + name + "}}" for name in texts.VARIABLES],  # as a shop writes them
        "share": None if figures.told_first_share is None else round(100 * figures.told_first_share),
        "median_minutes": None if figures.median_seconds_to_notice is None
        else round(figures.median_seconds_to_notice / 60, 1),
        "amounts": sorted(figures.voucher_amounts.items()),
    }
    return pages.render(request, "settings_promises.html", values, status=status)


def _rule_rows(form: dict[str, str]) -> list[int]:
    """The form rows (from 0) that hold a rule, in order: the service counts only those."""
    return [index for index in range(RULE_ROWS)
            if any(form.get(f"rule{index}_{part}", "").strip() for part in ("days", "total", "amount"))]


def _label(lang: Language, field: str, form: dict[str, str]) -> str:
    # (The group names are read before gettext(): its extractor would take them for messages.)
    if (found := CARRIER.match(field)) is not None:
        carrier = found.group("carrier")
        return lang.gettext(CARRIER_LABEL, carrier=carrier)
    if (found := TEMPLATE.match(field)) is not None and found.group("code") in LANGUAGE_LABELS:
        label, language = TEMPLATE_LABELS[found.group("part")], LANGUAGE_LABELS[found.group("code")]
        return lang.gettext(label, language=lang.gettext(language))
    if (found := RULE.match(field)) is not None and found.group("part") in RULE_LABELS:
        label, rows, index = RULE_LABELS[found.group("part")], _rule_rows(form), int(found.group("index"))
        return lang.gettext(label, number=(rows[index] if index < len(rows) else index) + 1)
    return lang.gettext(FIELD_LABELS.get(field, field))


def _explain(lang: Language, invalid: SettingInvalid, form: dict[str, str]) -> str:
    """The wrong field and what is wrong with it, in the page's language."""
    return lang.gettext("%(field)s: %(problem)s", field=_label(lang, invalid.field, form),
                        problem=lang.gettext(MESSAGES[invalid.problem], **invalid.values))


def _whole(text: str) -> int | str:
    """A whole number as the service wants it; anything else as typed, for the service to name."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


def _read(form: dict[str, str]) -> promise_settings.Settings:
    carriers: dict[str, Any] = {}
    for line in form.get("carriers", "").splitlines():
        if line.strip():
            name, _colon, days = line.rpartition(":")
            carriers[name.strip() if _colon else line.strip()] = _whole(days) if _colon else ""
    rules = []
    for index in range(RULE_ROWS):
        days, total, amount = (form.get(f"rule{index}_{part}", "").strip() for part in ("days", "total", "amount"))
        if days or total or amount:
            rules.append(promise_settings.Rule(_whole(days), total or "0", amount))  # type: ignore[arg-type]
    templates = {code: promise_settings.Template(form.get(f"{code}_subject", ""), form.get(f"{code}_body", ""))
                 for code in LANGUAGES}
    return promise_settings.Settings(
        enabled=form.get("enabled") == "on", cutoff=form.get("cutoff", "").strip(),
        transit_days=_whole(form.get("transit_days", "")), extra_days=_whole(form.get("extra_days", "")),  # type: ignore[arg-type]
        channel=form.get("channel", ""), carriers=carriers, templates=templates, rules=rules)


@router.get(BASE)
def promises_page(request: Request, db: DB, signed: Agent) -> Response:
    require_admin(signed)
    return _page(request, db, signed)


@router.post(BASE)
def save_promises(request: Request, db: DB, signed: CheckedAgent, form: Posted) -> Response:
    require_admin(signed)
    try:
        promise_settings.save(db, signed.actor.shop_id, _read(form), actor_agent_id=signed.actor.agent_id)
    except SettingInvalid as invalid:
        db.rollback()
        return _page(request, db, signed, form=form, error=_explain(pages.language(request), invalid, form),
                     status=400)
    db.commit()
    return pages.redirect(f"{BASE}?notice=saved")
