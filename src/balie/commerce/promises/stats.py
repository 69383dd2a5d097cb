"""The figures: how often a broken promise reached the customer before they contacted us,
how fast the notice went out, and what the vouchers cost."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie import clock
from balie.commerce.promises.models import Breach, Voucher
from balie.outbox.models import OutboxEntry


@dataclass
class Stats:
    since: dt.datetime
    broken: int = 0  # first breaches found
    told_first: int = 0  # notified before the customer contacted us
    customer_asked_first: int = 0
    unreachable: int = 0
    escalated: int = 0  # second breaches, given to a human
    median_seconds_to_notice: float | None = None
    vouchers: int = 0
    voucher_amounts: dict[str, Decimal] = field(default_factory=dict)  # per currency

    @property
    def told_first_share(self) -> float | None:
        return round(self.told_first / self.broken, 4) if self.broken else None


def of_shop(session: Session, shop_id: int, *, days: int = 30) -> Stats:
    since = clock.now() - dt.timedelta(days=days)
    found = Stats(since=since)
    rows = session.execute(
        select(Breach.generation, Breach.state, Breach.customer_asked_first, Breach.detected_at, Breach.acted_at,
               OutboxEntry.sent_at)
        .outerjoin(OutboxEntry, OutboxEntry.message_id == Breach.message_id)
        .where(Breach.shop_id == shop_id, Breach.detected_at >= since)).all()
    waits = []
    for row in rows:
        if row.generation == 2:
            found.escalated += row.state == "escalated"
            continue
        found.broken += 1
        if row.state == "notified":
            if row.customer_asked_first:
                found.customer_asked_first += 1
            else:
                found.told_first += 1
            # The notice is out when the channel took it; until then, when it was queued.
            noticed = clock.aware(row.sent_at) or clock.aware(row.acted_at)
            detected = clock.aware(row.detected_at)
            if noticed is not None and detected is not None:
                waits.append(max(0.0, (noticed - detected).total_seconds()))
        elif row.state == "unreachable":
            found.unreachable += 1
    if waits:
        found.median_seconds_to_notice = float(statistics.median(waits))
    for voucher in session.execute(select(Voucher.amount, Voucher.currency)
                                   .where(Voucher.shop_id == shop_id, Voucher.created_at >= since)):
        found.vouchers += 1
        found.voucher_amounts[voucher.currency] = found.voucher_amounts.get(voucher.currency, Decimal("0.00")) \
            + voucher.amount
    return found
