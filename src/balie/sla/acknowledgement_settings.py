"""Which channels of a shop send the automatic acknowledgement: off until an admin turns it on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from balie import clock
from balie.audit import service as audit_service
from balie.db import Base, Id, created_at
from balie.errors import Invalid

# The channels whose replies Balie delivers itself (an e-mail in the thread, a line in the
# chat widget, the shop's webhook for the API channel); the others have nothing to send with.
CHANNELS = ("email", "chat", "api")


class AcknowledgementSetting(Base):
    """One row per shop and channel that an admin changed; no row means off."""

    __tablename__ = "acknowledgement_setting"

    shop_id: Mapped[int] = mapped_column(Id, ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = created_at()


def enabled(session: Session, shop_id: int, channel: str) -> bool:
    found = session.scalar(select(AcknowledgementSetting.enabled).where(
        AcknowledgementSetting.shop_id == shop_id, AcknowledgementSetting.channel == channel))
    return bool(found)


def for_shop(session: Session, shop_id: int) -> dict[str, bool]:
    """Every channel that can acknowledge, on or off."""
    rows = session.execute(select(AcknowledgementSetting.channel, AcknowledgementSetting.enabled)
                           .where(AcknowledgementSetting.shop_id == shop_id)).all()
    stored = {row.channel: row.enabled for row in rows}
    return {channel: bool(stored.get(channel)) for channel in CHANNELS}


def set_enabled(session: Session, *, shop_id: int, channel: str, on: bool, actor_agent_id: int | None) -> bool:
    """Turns a channel's acknowledgement on or off; True when that changed something (audited)."""
    if channel not in CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(CHANNELS)}", code="invalid_channel")
    row = session.get(AcknowledgementSetting, (shop_id, channel))
    if row is not None and row.enabled == on:
        return False
    if row is None:
        if not on:
            return False
        row = AcknowledgementSetting(shop_id=shop_id, channel=channel)
        session.add(row)
    row.enabled = on
    row.updated_at = clock.now()
    audit_service.record(session, shop_id=shop_id, actor_agent_id=actor_agent_id,
                         action="acknowledgement.turned_on" if on else "acknowledgement.turned_off",
                         object_type="shop", object_id=shop_id, data={"channel": channel})
    session.flush()
    return True
