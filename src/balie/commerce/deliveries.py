"""Webhook deliveries already taken: a platform that sends the same delivery twice (a retry
after a timeout, a replay) gets 200 and nothing changes."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from balie import clock
from balie.commerce import checks
from balie.commerce.models import WebhookDelivery


def first_time(session: Session, shop_id: int, platform: str, delivery_id: str, topic: str = "") -> bool:
    """Records the delivery in the caller's transaction; False when it was taken before. The
    record commits with what the delivery changed, so a delivery that failed halfway is taken
    again when the platform retries it."""
    delivery_id = checks.line(delivery_id, "delivery id", max_length=128)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    taken = session.scalar(insert(WebhookDelivery).values(
        shop_id=shop_id, platform=platform, delivery_id=delivery_id, topic=topic[:64], received_at=clock.now(),
    ).on_conflict_do_nothing().returning(WebhookDelivery.delivery_id))
    return taken is not None
