"""A shop's promise settings: read with defaults filled in, replaced whole by an admin.

A wrong field raises SettingInvalid: its `detail` names the field in English, as every API
error does ("cutoff: a time HH:MM such as 22:00"); its `field`, `problem` and `values` let the
settings page say the same in the admin's language."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from balie import clock
from balie.audit import service as audit_service
from balie.commerce import checks
from balie.commerce.promises import texts
from balie.commerce.promises.models import (
    CHANNEL_PREFERENCES,
    LANGUAGES,
    CarrierTransit,
    CompensationRule,
    NoticeTemplate,
    PromiseSettings,
)
from balie.db import scoped
from balie.errors import Invalid
from balie.inputs import check_line, check_text

MAX_RULES = 20
MAX_CARRIERS = 50
MAX_SUBJECT = 300
MAX_BODY = 5000
CUTOFF = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class SettingInvalid(Invalid):
    """A wrong field: `problem` is one of PROBLEMS, `values` what its message needs."""

    def __init__(self, field: str, problem: str, detail: str, **values: object) -> None:
        super().__init__(detail, code="invalid_field")
        self.field, self.problem, self.values = field, problem, values


# What can be wrong with a field (the settings page has a message for each).
PROBLEMS = ("time", "choice", "too_many_carriers", "carrier_name", "whole_number", "language", "characters", "length",
            "variable", "amount", "more_than_zero", "too_many_rules")


@dataclass(frozen=True)
class Rule:
    min_days_late: int
    min_order_total: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


@dataclass(frozen=True)
class Settings:
    enabled: bool = False
    cutoff: str = "22:00"
    transit_days: int = 2
    extra_days: int = 1
    channel: str = "auto"
    carriers: dict[str, int] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=lambda: {
        code: Template(texts.DEFAULT_SUBJECT[code], texts.DEFAULT_BODY[code]) for code in LANGUAGES})
    # The example from the issue: €5 from one day late, €10 from three, none under €20.
    rules: list[Rule] = field(default_factory=lambda: [Rule(1, Decimal("20.00"), Decimal("5.00")),
                                                       Rule(3, Decimal("20.00"), Decimal("10.00"))])
    saved: bool = False
    enabled_at: dt.datetime | None = None

    @property
    def cutoff_time(self) -> dt.time:
        hours, minutes = self.cutoff.split(":")
        return dt.time(int(hours), int(minutes))

    def transit_for(self, carrier: str) -> int:
        return self.carriers.get(carrier.strip().lower(), self.transit_days)


def load(session: Session, shop_id: int) -> Settings:
    row = session.get(PromiseSettings, shop_id)
    if row is None:
        return Settings()
    carriers = {item.carrier: item.days for item in session.scalars(
        select(CarrierTransit).where(CarrierTransit.shop_id == shop_id))}
    defaults = Settings()
    templates = dict(defaults.templates)
    for item in session.scalars(select(NoticeTemplate).where(NoticeTemplate.shop_id == shop_id)):
        templates[item.language] = Template(item.subject, item.body)
    rules = [Rule(item.min_days_late, item.min_order_total, item.amount) for item in session.scalars(
        scoped(CompensationRule, shop_id).order_by(CompensationRule.min_days_late, CompensationRule.id))]
    return Settings(enabled=row.enabled, cutoff=row.cutoff, transit_days=row.transit_days,
                    extra_days=row.extra_days, channel=row.channel, carriers=carriers, templates=templates,
                    rules=rules, saved=True, enabled_at=row.enabled_at)


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingInvalid(name, "whole_number", f"{name}: a whole number from {low} to {high} "
                             f"(got {str(value)[:20]!r})", low=low, high=high)
    return value


def _line(value: str, field: str) -> str:
    try:
        return check_line(value, field)
    except Invalid as error:
        raise SettingInvalid(field, "characters", error.detail) from error


def _text(value: str, field: str) -> None:
    try:
        check_text(value, field)
    except Invalid as error:
        raise SettingInvalid(field, "characters", error.detail) from error


def _money(value: object, field: str) -> Decimal:
    try:
        amount = checks.money(value, field)
    except Invalid as error:
        raise SettingInvalid(field, "amount", error.detail) from error
    assert amount is not None  # required: checks.money raises instead
    return amount


def check(wanted: Settings) -> Settings:
    """The settings as they will be stored; a wrong field is named."""
    if not CUTOFF.match(str(wanted.cutoff)):
        raise SettingInvalid("cutoff", "time", f"cutoff: a time HH:MM such as 22:00 (got {str(wanted.cutoff)[:20]!r})")
    if wanted.channel not in CHANNEL_PREFERENCES:
        raise SettingInvalid("channel", "choice", f"channel: one of {', '.join(CHANNEL_PREFERENCES)}")
    if len(wanted.carriers) > MAX_CARRIERS:
        raise SettingInvalid("carriers", "too_many_carriers", f"carriers: at most {MAX_CARRIERS}", count=MAX_CARRIERS)
    carriers = {}
    for name, days in wanted.carriers.items():
        carrier = _line(name, "carrier").strip().lower()
        if not carrier or len(carrier) > 64:
            raise SettingInvalid("carriers", "carrier_name",
                                 f"carriers: a carrier name of 1 to 64 characters (got {carrier[:70]!r})")
        carriers[carrier] = _whole(days, f"carriers.{carrier}", 1, 60)
    templates = {}
    for code, template in wanted.templates.items():
        if code not in LANGUAGES:
            raise SettingInvalid("templates", "language",
                                 f"templates: language {code[:10]!r} is not one of {', '.join(LANGUAGES)}")
        subject = _line(template.subject, f"templates.{code}.subject").strip()
        body = template.body.replace("\r\n", "\n")
        _text(body, f"templates.{code}.body")
        body = body.strip()
        if not subject or len(subject) > MAX_SUBJECT:
            raise SettingInvalid(f"templates.{code}.subject", "length",
                                 f"templates.{code}.subject: 1 to {MAX_SUBJECT} characters", high=MAX_SUBJECT)
        if not body or len(body) > MAX_BODY:
            raise SettingInvalid(f"templates.{code}.body", "length",
                                 f"templates.{code}.body: 1 to {MAX_BODY} characters", high=MAX_BODY)
        for where, value in (("subject", subject), ("body", body)):
            unknown = texts.unknown_variables(value)
            if unknown:
                raise SettingInvalid(f"templates.{code}.{where}", "variable",
                                     f"templates.{code}.{where}: unknown variable {{{{{unknown[0]}}}}}; the variables "
                                     f"are {', '.join(texts.VARIABLES)}", variable=f"{{{{{unknown[0]}}}}}")
        templates[code] = Template(subject, body)
    if len(wanted.rules) > MAX_RULES:
        raise SettingInvalid("compensation", "too_many_rules", f"compensation: at most {MAX_RULES} rules",
                             count=MAX_RULES)
    rules = []
    for index, rule in enumerate(wanted.rules):
        where = f"compensation[{index}]"
        days = _whole(rule.min_days_late, f"{where}.min_days_late", 1, 365)
        minimum = _money(rule.min_order_total, f"{where}.min_order_total")
        amount = _money(rule.amount, f"{where}.amount")
        if amount <= 0:
            raise SettingInvalid(f"{where}.amount", "more_than_zero", f"{where}.amount: must be more than 0")
        rules.append(Rule(days, minimum, amount))
    return Settings(enabled=bool(wanted.enabled), cutoff=wanted.cutoff,
                    transit_days=_whole(wanted.transit_days, "transit_days", 1, 60),
                    extra_days=_whole(wanted.extra_days, "extra_days", 1, 30), channel=wanted.channel,
                    carriers=carriers, templates={**Settings().templates, **templates},
                    rules=sorted(rules, key=lambda rule: (rule.min_days_late, rule.min_order_total)), saved=True)


def save(session: Session, shop_id: int, wanted: Settings, *, actor_agent_id: int | None) -> Settings:
    checked = check(wanted)
    row = session.get(PromiseSettings, shop_id)
    if row is None:
        row = PromiseSettings(shop_id=shop_id, enabled=False)
        session.add(row)
    if checked.enabled and not row.enabled:
        row.enabled_at = clock.now()
    row.enabled, row.cutoff, row.transit_days = checked.enabled, checked.cutoff, checked.transit_days
    row.extra_days, row.channel, row.updated_at = checked.extra_days, checked.channel, clock.now()
    for model in (CarrierTransit, NoticeTemplate, CompensationRule):
        session.execute(delete(model).where(model.shop_id == shop_id))
    session.add_all(CarrierTransit(shop_id=shop_id, carrier=name, days=days) for name, days in checked.carriers.items())
    session.add_all(NoticeTemplate(shop_id=shop_id, language=code, subject=template.subject, body=template.body)
                    for code, template in checked.templates.items())
    session.add_all(CompensationRule(shop_id=shop_id, min_days_late=rule.min_days_late,
                                     min_order_total=rule.min_order_total, amount=rule.amount)
                    for rule in checked.rules)
    session.flush()
    audit_service.record(session, shop_id=shop_id, actor_agent_id=actor_agent_id, action="promise_settings.saved",
                         object_type="shop", object_id=shop_id,
                         data={"enabled": checked.enabled, "cutoff": checked.cutoff, "channel": checked.channel,
                               "rules": len(checked.rules)})
    return dataclasses.replace(checked, enabled_at=row.enabled_at)


def enabled_shops(session: Session) -> list[int]:
    return list(session.scalars(select(PromiseSettings.shop_id).where(PromiseSettings.enabled)
                                .order_by(PromiseSettings.shop_id)))
