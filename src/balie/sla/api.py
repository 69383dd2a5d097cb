"""/api/v1/sla/policy: a shop's SLA targets. Every agent may read them; only admins replace them."""

from __future__ import annotations

from fastapi import APIRouter

from balie.agents.service import Actor
from balie.errors import Forbidden
from balie.sla import targets
from balie.sla.schemas import PolicyIn, PolicyOut, TargetOut
from balie.sla.targets import TargetRow
from balie.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1", tags=["sla"])


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only a shop admin can change its SLA targets", code="admin_only")


def _out(db: DB, shop_id: int) -> PolicyOut:
    policy = targets.load(db, shop_id)
    return PolicyOut(
        custom=targets.is_custom(db, shop_id), near=policy.near,
        targets=[TargetOut(channel=row.channel, priority=row.priority, kind=row.kind,  # type: ignore[arg-type]
                           minutes=row.minutes, business=row.business) for row in targets.rows_of(policy)],
    )


@router.get("/sla/policy", response_model=PolicyOut)
def get_policy(db: DB, actor: ApiActor) -> PolicyOut:
    """The shop's targets per channel × priority × kind (the defaults until it saves its own)."""
    _admin(actor)
    return _out(db, actor.shop_id)


@router.put("/sla/policy", response_model=PolicyOut)
def put_policy(body: PolicyIn, db: DB, actor: ApiActor) -> PolicyOut:
    """Replaces every target: one left out is no promise of that kind. Running timers keep theirs."""
    _admin(actor)
    targets.save(db, actor.shop_id, actor_agent_id=actor.agent_id, near=body.near,
                 targets=[TargetRow(t.channel, t.priority, t.kind, t.minutes, t.business) for t in body.targets])
    db.commit()
    return _out(db, actor.shop_id)
