"""/api/v1/sla/policy (a shop's SLA targets) and /api/v1/acknowledgements (which channels answer a
customer at once with when they will hear from the shop). Shop admins only, to read and to change."""

from __future__ import annotations

from fastapi import APIRouter

from balie.agents.service import Actor
from balie.errors import Forbidden
from balie.sla import acknowledgement_settings, targets
from balie.sla.acknowledgement_settings import CHANNELS
from balie.sla.schemas import AcknowledgementsIn, AcknowledgementsOut, PolicyIn, PolicyOut, TargetOut
from balie.sla.targets import TargetRow
from balie.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1", tags=["sla"])


def _admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only a shop admin can see or change its {what}", code="admin_only")


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
    _admin(actor, "SLA targets")
    return _out(db, actor.shop_id)


@router.put("/sla/policy", response_model=PolicyOut)
def put_policy(body: PolicyIn, db: DB, actor: ApiActor) -> PolicyOut:
    """Replaces every target: one left out is no promise of that kind. Running timers keep theirs."""
    _admin(actor, "SLA targets")
    targets.save(db, actor.shop_id, actor_agent_id=actor.agent_id, near=body.near,
                 targets=[TargetRow(t.channel, t.priority, t.kind, t.minutes, t.business) for t in body.targets])
    db.commit()
    return _out(db, actor.shop_id)


@router.get("/acknowledgements", response_model=AcknowledgementsOut)
def get_acknowledgements(db: DB, actor: ApiActor) -> AcknowledgementsOut:
    """Per channel that can send one, whether it does (off until an admin turns it on)."""
    _admin(actor, "acknowledgements")
    return AcknowledgementsOut(channels=acknowledgement_settings.for_shop(db, actor.shop_id))


@router.put("/acknowledgements", response_model=AcknowledgementsOut)
def put_acknowledgements(body: AcknowledgementsIn, db: DB, actor: ApiActor) -> AcknowledgementsOut:
    """Switches the channels named, leaves the others; a switch that changes nothing is not audited
    again, so a script may send its whole wish every time."""
    _admin(actor, "acknowledgements")
    for channel in CHANNELS:  # a fixed order, so the audit trail reads the same for the same request
        if channel in body.channels:
            acknowledgement_settings.set_enabled(db, shop_id=actor.shop_id, channel=channel,
                                                 on=body.channels[channel], actor_agent_id=actor.agent_id)
    db.commit()
    return AcknowledgementsOut(channels=acknowledgement_settings.for_shop(db, actor.shop_id))
