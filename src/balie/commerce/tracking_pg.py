"""The tracking webhook's common case on PostgreSQL, in three short statements.

Nearly every delivery is a scan or a few for a parcel Balie already knows, naming the order
it already has. For that case one statement locks the parcel, stores the scans that are new
(a repeat is dropped by the unique key) and moves the parcel's status only for a scan newer
than the one it holds; two more lock the order and recount its delivery status and delivered
moment from all its parcels. `shipments.save` and `shipments.add_event` take about fifteen
ORM round trips for the same, about 11 ms of Python per delivery, which kept one process
under 100 deliveries/s (docs/benchmarks.md; issue 6 asks 500/s).

Anything else (a parcel Balie does not know, one not yet linked to its order, or a delivery
naming another order than the parcel's) writes nothing here; the caller then takes the
general path in the same transaction. Written as SQL by hand, as conversations/ingest_pg.py
is, for the same reason: the ORM's statement building is what this path exists to avoid.

Locking follows the general path: the parcel first, then its order, whose parcels are
recounted in a statement of their own once it is locked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from balie.commerce import shipments

# The newest of this delivery's new scans decides, if it is newer than the parcel's; among
# scans at the same moment the later one in the delivery wins, as on the general path.
_PARCEL = """
WITH ship AS (
    SELECT id, order_id, status FROM commerce_shipment
    WHERE shop_id = %(shop_id)s AND carrier = %(carrier)s AND tracking_code = %(code)s
      AND order_id IS NOT NULL AND (%(number)s::text IS NULL OR order_number = %(number)s::text)
    FOR UPDATE
),
ev AS (
    SELECT * FROM unnest(%(statuses)s::text[], %(moments)s::timestamptz[], %(descriptions)s::text[],
                         %(raw_statuses)s::text[]) WITH ORDINALITY AS e(status, occurred_at, description, raw_status, n)
),
ins AS (
    INSERT INTO commerce_tracking_event
        (shop_id, shipment_id, status, occurred_at, description, raw_status, source, created_at)
    SELECT %(shop_id)s, ship.id, ev.status, ev.occurred_at, ev.description, ev.raw_status, 'tracking', %(now)s
    FROM ship CROSS JOIN ev ORDER BY ev.n
    ON CONFLICT (shipment_id, status, occurred_at) DO NOTHING
    RETURNING status, occurred_at
),
newest AS (
    SELECT ins.status, ins.occurred_at FROM ins JOIN ev USING (status, occurred_at)
    ORDER BY ins.occurred_at DESC, ev.n DESC LIMIT 1
),
moved AS (
    UPDATE commerce_shipment s SET
        status = CASE WHEN newest.occurred_at >= s.status_at OR s.status_at IS NULL
                      THEN coalesce(newest.status, s.status) ELSE s.status END,
        status_at = CASE WHEN newest.occurred_at >= s.status_at OR s.status_at IS NULL
                         THEN coalesce(newest.occurred_at, s.status_at) ELSE s.status_at END,
        delivered_at = least(s.delivered_at, (SELECT min(occurred_at) FROM ins WHERE status = 'delivered')),
        tracking_url = coalesce(%(url)s, s.tracking_url),
        updated_at = %(now)s
    FROM ship LEFT JOIN newest ON true
    WHERE s.id = ship.id
      AND (EXISTS (SELECT 1 FROM ins) OR s.tracking_url IS DISTINCT FROM coalesce(%(url)s, s.tracking_url))
    RETURNING s.status
)
SELECT ship.id, ship.order_id, coalesce((SELECT status FROM moved), ship.status), (SELECT count(*) FROM ins),
       (SELECT count(*) FROM moved)
FROM ship
"""

# In a statement of its own, after the order's row is locked: a statement sees what was
# committed when it began, and another parcel of this order may have moved while this
# transaction waited for the lock (shipments.refresh_order locks the same way).
_LOCK_ORDER = "SELECT id FROM commerce_order WHERE id = %(order_id)s FOR UPDATE"
_RECOUNT_ORDER = """
WITH parcels AS (
    SELECT id, status, status_at, delivered_at FROM commerce_shipment
    WHERE shop_id = %(shop_id)s AND order_id = %(order_id)s
)
UPDATE commerce_order SET
    delivery_status = (SELECT status FROM parcels WHERE status_at IS NOT NULL
                       ORDER BY status_at DESC, id DESC LIMIT 1),
    delivered_at = (SELECT CASE WHEN bool_and(delivered_at IS NOT NULL) THEN max(delivered_at) END FROM parcels)
WHERE id = %(order_id)s AND shop_id = %(shop_id)s
"""


@dataclass(frozen=True)
class Outcome:
    shipment_id: int
    order_id: int
    status: str | None
    added: int
    changed: bool  # the parcel was written (a new scan or a new tracking URL)


def try_apply(session: Session, shop_id: int, *, carrier: str, tracking_code: str, order_number: str | None,
              tracking_url: str | None, events: list[shipments.EventInput], now: dt.datetime) -> Outcome | None:
    """The scans applied to a known, linked parcel; None: nothing written, take the general path.

    `events` are checked and normalised (tracking_webhook.parse). A scan repeated within the
    delivery counts once, as the general path counts it."""
    unique: dict[tuple[str, dt.datetime], shipments.EventInput] = {}
    for event in events:
        unique.setdefault((event.status, event.occurred_at), event)
    kept = list(unique.values())
    connection = session.connection()
    row = connection.exec_driver_sql(_PARCEL, {
        "shop_id": shop_id, "carrier": carrier, "code": tracking_code, "number": order_number, "url": tracking_url,
        "now": now, "statuses": [event.status for event in kept], "moments": [event.occurred_at for event in kept],
        "descriptions": [event.description or "" for event in kept],
        "raw_statuses": [event.raw_status or "" for event in kept],
    }).first()
    if row is None:
        return None
    shipment_id, order_id, status, added, moved = row
    if added:
        connection.exec_driver_sql(_LOCK_ORDER, {"order_id": order_id})
        connection.exec_driver_sql(_RECOUNT_ORDER, {"order_id": order_id, "shop_id": shop_id})
    return Outcome(shipment_id, order_id, status, added=added, changed=bool(moved))
