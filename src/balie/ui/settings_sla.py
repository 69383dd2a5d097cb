"""Settings page for the shop's SLA targets (shop admins only): per channel and priority the first
response, next response and resolution, in minutes or hours, counted in opening hours or around
the clock, and from which share of the target a conversation shows "due soon".

As on the other settings pages: a plain form with the CSRF token, every wrong field explained
beside it, and nothing stored from a form that has one wrong field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from balie.conversations.models import CHANNELS, PRIORITIES
from balie.errors import Invalid
from balie.sla import targets
from balie.sla.policy import KINDS, MAX_MINUTES
from balie.sla.targets import TargetRow
from balie.ui import pages
from balie.ui.auth import Agent, CheckedAgent, Signed, require_admin
from balie.ui.i18n import Language
from balie.ui.inbox import chrome
from balie.ui.listing import CHANNEL_LABELS, PRIORITY_LABELS, ListQuery
from balie.ui.routing import N_, UiRoute
from balie.ui.settings_widget import Posted
from balie.web.deps import DB

router = APIRouter(route_class=UiRoute, include_in_schema=False)
SLA = "/settings/sla"
UNITS = ("minutes", "hours")
BASES = ("business", "calendar")
KIND_LABELS = {"first_response": N_("First response"), "next_response": N_("Next response"),
               "resolution": N_("Resolution")}
UNIT_LABELS = {"minutes": N_("minutes"), "hours": N_("hours")}
BASIS_LABELS = {"business": N_("opening hours"), "calendar": N_("around the clock")}
MESSAGES = {
    "amount": N_("Enter a whole number, or leave it empty for no target."),
    "range": N_("A target is 1 minute to a year (8784 hours)."),
    "unit": N_("Choose minutes or hours."),
    "basis": N_("Choose opening hours or around the clock."),
    "near": N_("Enter a percentage from 1 to 99, such as 80."),
}



def _name(channel: str, priority: str, kind: str) -> str:
    return f"{channel}_{priority}_{kind}"


def _form_of(db: Session, shop_id: int) -> dict[str, str]:
    policy = targets.load(db, shop_id)
    form = {"near": f"{round(policy.near * 100, 2):g}"}
    for channel in CHANNELS:
        for priority in PRIORITIES:
            for kind in KINDS:
                name = _name(channel, priority, kind)
                target = policy.target(channel, priority, kind)
                hours = target is not None and target.minutes % 60 == 0
                form[name] = "" if target is None else str(target.minutes // 60 if hours else target.minutes)
                form[name + "_unit"] = "hours" if hours or target is None else "minutes"
                form[name + "_basis"] = "calendar" if target is not None and not target.business else "business"
    return form


def _page(request: Request, db: Session, signed: Signed, *, form: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, status: int = 200) -> Response:
    values: dict[str, Any] = {
        **chrome(db, signed), "query": ListQuery(), "settings_page": "sla",
        "notice": N_("Changes saved.") if request.query_params.get("notice") == "saved" else None,
        "form": form or _form_of(db, signed.actor.shop_id), "errors": errors or {},
        "custom": targets.is_custom(db, signed.actor.shop_id),
        "channels": CHANNELS, "priorities": PRIORITIES, "kinds": KINDS, "units": UNITS, "bases": BASES,
        "channel_labels": CHANNEL_LABELS, "priority_labels": PRIORITY_LABELS, "kind_labels": KIND_LABELS,
        "unit_labels": UNIT_LABELS, "basis_labels": BASIS_LABELS,
    }
    return pages.render(request, "settings_sla.html", values, status=status)


def _problem(amount: str, unit: str, basis: str) -> tuple[str | None, int]:
    """What is wrong with one target's fields (a key of MESSAGES), else its minutes."""
    if not amount.isascii() or not amount.isdigit() or len(amount) > 9:
        return "amount", 0
    if unit not in UNITS:
        return "unit", 0
    if basis not in BASES:
        return "basis", 0
    minutes = int(amount) * (60 if unit == "hours" else 1)
    return (None, minutes) if 1 <= minutes <= MAX_MINUTES else ("range", 0)


def _share(text: str) -> float | None:
    try:
        percent = float(text.strip().replace(",", ".").rstrip("%").strip())
    except ValueError:
        return None
    return percent / 100 if 1 <= percent <= 99 else None


def _read(form: dict[str, str], lang: Language) -> tuple[list[TargetRow], float | None, dict[str, str]]:
    """The targets and share the form holds, and a message per wrong field."""
    problems: dict[str, str] = {}
    rows: list[TargetRow] = []
    for channel in CHANNELS:
        for priority in PRIORITIES:
            for kind in KINDS:
                name = _name(channel, priority, kind)
                amount = form.get(name, "").strip()
                if not amount:
                    continue
                basis = form.get(name + "_basis", "")
                problem, minutes = _problem(amount, form.get(name + "_unit", ""), basis)
                if problem is not None:
                    problems[name] = problem
                else:
                    rows.append(TargetRow(channel, priority, kind, minutes, basis == "business"))
    near = _share(form.get("near", ""))
    if near is None:
        problems["near"] = "near"
    return rows, near, {name: lang.gettext(MESSAGES[problem]) for name, problem in problems.items()}


@router.get(SLA)
def sla_page(request: Request, db: DB, signed: Agent) -> Response:
    require_admin(signed)
    return _page(request, db, signed)


@router.post(SLA)
def save_sla(request: Request, db: DB, signed: CheckedAgent, form: Posted) -> Response:
    require_admin(signed)
    lang = pages.language(request)
    rows, near, errors = _read(form, lang)
    if errors or near is None:
        return _page(request, db, signed, form=form, errors=errors, status=400)
    try:
        targets.save(db, signed.actor.shop_id, actor_agent_id=signed.actor.agent_id, targets=rows, near=near)
    except Invalid as invalid:  # the form checks everything first; this is the last word
        db.rollback()
        return _page(request, db, signed, form=form, errors={"near": invalid.detail}, status=400)
    db.commit()
    return pages.redirect(f"{SLA}?notice=saved")
