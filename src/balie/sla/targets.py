"""A shop's SLA targets in the database: read them as a `Policy` (the defaults while the shop has
none of its own), and replace them as a whole. Saving checks everything first: on `Invalid`
nothing changed. Running timers keep the target they started with (the promise made)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from balie import clock
from balie.audit import service as audit_service
from balie.conversations.models import CHANNELS, PRIORITIES
from balie.errors import Invalid
from balie.sla.models import SlaPolicy, SlaTarget
from balie.sla.policy import DEFAULT_NEAR, KINDS, MAX_MINUTES, Policy, Target, default_policy

MAX_TARGETS = len(CHANNELS) * len(PRIORITIES) * len(KINDS)


@dataclass(frozen=True)
class TargetRow:
    """One target as the API and the settings page write it."""

    channel: str
    priority: str
    kind: str
    minutes: int
    business: bool = True


def load(session: Session, shop_id: int) -> Policy:
    """The shop's policy: its own targets once it saved any, else the defaults."""
    near = session.scalar(select(SlaPolicy.near).where(SlaPolicy.shop_id == shop_id))
    if near is None:
        return default_policy()
    rows = session.execute(
        select(SlaTarget.channel, SlaTarget.priority, SlaTarget.kind, SlaTarget.minutes, SlaTarget.business)
        .where(SlaTarget.shop_id == shop_id)
    ).all()
    return Policy({(channel, priority, kind): Target(minutes, business)
                   for channel, priority, kind, minutes, business in rows}, near=near)


def is_custom(session: Session, shop_id: int) -> bool:
    return session.scalar(select(SlaPolicy.id).where(SlaPolicy.shop_id == shop_id)) is not None


def rows_of(policy: Policy) -> list[TargetRow]:
    """The policy's targets in a fixed order: channel, priority, kind as the constants list them."""
    return [TargetRow(channel, priority, kind, target.minutes, target.business)
            for channel in CHANNELS for priority in PRIORITIES for kind in KINDS
            if (target := policy.target(channel, priority, kind)) is not None]


def check(targets: Iterable[TargetRow], near: float) -> Policy:
    """The policy these rows make, or `Invalid` naming the first wrong row (1-based)."""
    if not isinstance(near, int | float) or isinstance(near, bool) or not 0.0 < near < 1.0:
        raise Invalid("near ('due soon') is a share of the target between 0 and 1, for example 0.8",
                      code="invalid_near")
    found: dict[tuple[str, str, str], Target] = {}
    for number, row in enumerate(targets, start=1):
        if number > MAX_TARGETS:
            raise Invalid(f"at most {MAX_TARGETS} targets (one per channel, priority and kind)",
                          code="too_many_targets")
        where = f"target {number}"
        if row.channel not in CHANNELS:
            raise Invalid(f"{where}: channel must be one of {', '.join(CHANNELS)}", code="invalid_channel")
        if row.priority not in PRIORITIES:
            raise Invalid(f"{where}: priority must be one of {', '.join(PRIORITIES)}", code="invalid_priority")
        if row.kind not in KINDS:
            raise Invalid(f"{where}: kind must be one of {', '.join(KINDS)}", code="invalid_kind")
        if isinstance(row.minutes, bool) or not isinstance(row.minutes, int) or not 1 <= row.minutes <= MAX_MINUTES:
            raise Invalid(f"{where}: minutes is a whole number from 1 to {MAX_MINUTES} (a year)",
                          code="invalid_target")
        key = (row.channel, row.priority, row.kind)
        if key in found:
            raise Invalid(f"{where}: {row.channel} {row.priority} {row.kind} is given twice", code="duplicate_target")
        found[key] = Target(row.minutes, bool(row.business))
    return Policy(found, near=float(near))


def save(session: Session, shop_id: int, *, actor_agent_id: int | None, targets: Iterable[TargetRow],
         near: float = DEFAULT_NEAR) -> Policy:
    """Replaces the shop's whole policy (a target left out is no promise of that kind)."""
    policy = check(list(targets), near)
    old = load(session, shop_id)
    before = rows_of(old), old.near
    own = session.scalars(select(SlaPolicy).where(SlaPolicy.shop_id == shop_id)).first()
    if own is None:
        session.add(SlaPolicy(shop_id=shop_id, near=policy.near, updated_at=clock.now()))
    else:
        own.near, own.updated_at = policy.near, clock.now()
    session.execute(delete(SlaTarget).where(SlaTarget.shop_id == shop_id))
    after = rows_of(policy)
    session.add_all(SlaTarget(shop_id=shop_id, channel=row.channel, priority=row.priority, kind=row.kind,
                              minutes=row.minutes, business=row.business) for row in after)
    session.flush()
    if before != (after, policy.near):
        audit_service.record(session, shop_id=shop_id, actor_agent_id=actor_agent_id, action="sla.policy_changed",
                             object_type="shop", object_id=shop_id,
                             data={"near": policy.near, "targets": len(after)})
    return policy
