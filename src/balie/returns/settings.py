"""A shop's return settings: the policy, the standard delivery cost, and the exceptions (goods
the right of withdrawal does not cover, matched on SKU prefix)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from balie import clock
from balie.commerce import checks
from balie.db import scoped
from balie.errors import Invalid
from balie.inputs import check_line
from balie.returns.models import EXCEPTION_KINDS, POLICIES, ReturnException, ReturnSettings

MAX_EXCEPTIONS = 200


@dataclass(frozen=True)
class Exclusion:
    kind: str
    sku_prefix: str


@dataclass(frozen=True)
class Settings:
    policy: str = "resellable"
    standard_delivery_cost: Decimal | None = None
    exceptions: tuple[Exclusion, ...] = ()

    def exception_for(self, sku: str) -> str | None:
        """The exception a SKU falls under (the longest matching prefix wins), or None."""
        found = [rule for rule in self.exceptions if sku and sku.upper().startswith(rule.sku_prefix.upper())]
        return max(found, key=lambda rule: len(rule.sku_prefix)).kind if found else None


def load(session: Session, shop_id: int) -> Settings:
    row = session.get(ReturnSettings, shop_id)
    rules = session.scalars(scoped(ReturnException, shop_id).order_by(ReturnException.sku_prefix)).all()
    return Settings(
        policy=row.policy if row else "resellable",
        standard_delivery_cost=row.standard_delivery_cost if row else None,
        exceptions=tuple(Exclusion(rule.kind, rule.sku_prefix) for rule in rules),
    )


def check_kind(kind: str, where: str) -> str:
    if kind not in EXCEPTION_KINDS:
        raise Invalid(f"{where}: must be one of {', '.join(EXCEPTION_KINDS)} (got {kind[:40]!r})",
                      code="invalid_field")
    return kind


def replace(session: Session, shop_id: int, *, policy: str, standard_delivery_cost: object,
            exceptions: list[tuple[str, str]]) -> Settings:
    """Replaces all of it; checks everything first, so a refused change changes nothing."""
    if policy not in POLICIES:
        raise Invalid(f"policy: must be one of {', '.join(POLICIES)} (got {policy[:40]!r})", code="invalid_field")
    cost = checks.money(standard_delivery_cost, "standard_delivery_cost", required=False)
    if len(exceptions) > MAX_EXCEPTIONS:
        raise Invalid(f"exceptions: at most {MAX_EXCEPTIONS}", code="invalid_field")
    checked: dict[str, str] = {}
    for index, (kind, prefix) in enumerate(exceptions):
        where = f"exceptions[{index}]"
        check_kind(kind, f"{where}.kind")
        prefix = check_line(prefix, f"{where}.sku_prefix").strip()
        if not prefix or len(prefix) > 64:
            raise Invalid(f"{where}.sku_prefix: 1 to 64 characters", code="invalid_field")
        if prefix.upper() in checked:
            raise Invalid(f"{where}.sku_prefix: {prefix!r} is listed twice", code="invalid_field")
        checked[prefix.upper()] = kind
    row = session.get(ReturnSettings, shop_id)
    if row is None:
        row = ReturnSettings(shop_id=shop_id)
        session.add(row)
    row.policy, row.standard_delivery_cost, row.updated_at = policy, cost, clock.now()
    session.execute(delete(ReturnException).where(ReturnException.shop_id == shop_id))
    session.add_all(ReturnException(shop_id=shop_id, kind=kind, sku_prefix=prefix) for prefix, kind in checked.items())
    session.flush()
    return load(session, shop_id)


def exists(session: Session, shop_id: int) -> bool:
    return session.scalar(select(ReturnSettings.shop_id).where(ReturnSettings.shop_id == shop_id)) is not None
