"""Compensation for a broken promise: the shop's rules pick an amount by days late and order
total; the voucher is a record with a code the customer can use and agents can see."""

from __future__ import annotations

import secrets
from decimal import Decimal

from sqlalchemy.orm import Session

from balie import clock
from balie.commerce.models import Order
from balie.commerce.promises.models import Voucher
from balie.commerce.promises.settings import Rule
from balie.db import scoped

# No 0/O, 1/I/L: a code read over the phone or typed from a mail should not be misread.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def amount_for(rules: list[Rule], days_late: int, order_total: Decimal) -> Decimal | None:
    """The matching rule with the most days late (then the highest amount); None: no voucher."""
    matching = [rule for rule in rules if rule.min_days_late <= days_late and rule.min_order_total <= order_total]
    if not matching:
        return None
    return max(matching, key=lambda rule: (rule.min_days_late, rule.amount)).amount


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"SORRY-{body[:4]}-{body[4:]}"


def grant(session: Session, order: Order, amount: Decimal, *, breach_id: int, reason: str) -> Voucher:
    voucher = Voucher(shop_id=order.shop_id, code=new_code(), amount=amount, currency=order.currency,
                      order_id=order.id, customer_id=order.customer_id, breach_id=breach_id, reason=reason[:300],
                      created_at=clock.now())
    session.add(voucher)
    session.flush()
    return voucher


def of_order(session: Session, shop_id: int, order_id: int) -> list[Voucher]:
    return list(session.scalars(scoped(Voucher, shop_id).where(Voucher.order_id == order_id)
                                .order_by(Voucher.id)))
