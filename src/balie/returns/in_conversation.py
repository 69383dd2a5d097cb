"""Return cases beside a conversation: the cases of the orders in the customer panel, read in
one query whatever the number of orders, and where each case stands in the agent's words."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from balie.db import scoped
from balie.returns.models import ReturnCase


def status(case: ReturnCase) -> str:
    """Where a case stands, furthest step first: the refund settles it; goods back beat the
    customer's proof of sending (which only ends the shop's right to wait); else requested."""
    if case.refunded_at is not None:
        return "refunded"
    if case.goods_received_at is not None:
        return "received"
    if case.shipment_proof_at is not None:
        return "sent_back"
    return "requested"


def of_orders(session: Session, shop_id: int, order_ids: Sequence[int]) -> dict[int, list[ReturnCase]]:
    """Order id → its cases, newest first (as /returns lists them); no query without orders."""
    if not order_ids:
        return {}
    cases: dict[int, list[ReturnCase]] = {order_id: [] for order_id in order_ids}
    for case in session.scalars(scoped(ReturnCase, shop_id).where(ReturnCase.order_id.in_(list(order_ids)))
                                .order_by(ReturnCase.order_id, ReturnCase.id.desc())):
        cases[case.order_id].append(case)
    return cases
