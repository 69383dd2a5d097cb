"""Opening a return case and working it: the condition of the goods on arrival, a deduction
for diminished value, the customer's proof of sending, and the refund. Services flush; the
entry point (API request, withdrawal page) commits. docs/returns.md has the rules in words.

A case is keyed by its order and the lines and quantities withdrawn: the same withdrawal
again (a double click, a repeated API call, the page used twice) is the same case."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from balie import clock
from balie.audit import service as audit_service
from balie.commerce import checks
from balie.commerce import orders as order_service
from balie.commerce.models import Order, OrderLine
from balie.db import get_scoped, scoped
from balie.errors import Conflict, Invalid, NotFound
from balie.events import Event, publish_on_commit
from balie.inputs import check_text
from balie.returns import calendar, deadlines, promise
from balie.returns import settings as return_settings
from balie.returns.models import CONDITIONS, SOURCES, ReturnCase, ReturnLine

MAX_LINES = 500
MAX_REASON = 2000
MAX_NOTES = 4000
# Never refunded on withdrawal (art. 16 (c), (d)); sealed hygiene goods only once unsealed (16 (e)).
EXCLUDED_AT_ONCE = ("custom_made", "perishable")
CLOCK_SKEW = dt.timedelta(minutes=5)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineRequest:
    quantity: int
    sku: str | None = None
    position: int | None = None  # the line's index in the order's lines (0 = the first)
    exception: str | None = None  # an agent's choice: this line is custom-made, perishable, ...


@dataclass(frozen=True)
class Request:
    order_number: str
    source: str
    lines: Sequence[LineRequest] = ()  # none: the whole order (what is not yet withdrawn)
    reason: str = ""
    withdrawn_at: dt.datetime | None = None  # default now
    language: str = "nl"


@dataclass(frozen=True)
class Opened:
    case: ReturnCase
    created: bool
    lines: list[ReturnLine] = field(default_factory=list)


# --- reading -----------------------------------------------------------------------------------


def get(session: Session, shop_id: int, case_id: int) -> ReturnCase:
    try:
        return get_scoped(session, ReturnCase, shop_id, case_id)
    except NotFound:
        raise NotFound(f"return {case_id} not found") from None


def lines_of(session: Session, case: ReturnCase) -> list[ReturnLine]:
    return list(session.scalars(scoped(ReturnLine, case.shop_id).where(ReturnLine.case_id == case.id)
                                .order_by(ReturnLine.position)))


def of_order(session: Session, shop_id: int, number: str, *, limit: int = 100) -> list[ReturnCase]:
    return list(session.scalars(scoped(ReturnCase, shop_id)
                                .where(ReturnCase.order_number == number.strip().lstrip("#"))
                                .order_by(ReturnCase.id.desc()).limit(limit)))


def excluded(line: ReturnLine) -> bool:
    """Whether the line's value is kept by the shop: sealed hygiene goods that came back unsealed."""
    return line.exception == "sealed_hygiene" and line.condition not in (None, "unopened")


def refund_due(case: ReturnCase, lines: list[ReturnLine]) -> Decimal:
    """What the customer gets back: the goods' price less deductions, plus the delivery share."""
    goods = sum((line.price * line.quantity - line.deduction for line in lines if not excluded(line)), ZERO)
    return (goods + case.delivery_refund).quantize(Decimal("0.01"))


def refund_state(case: ReturnCase, now: dt.datetime | None = None) -> str:
    return deadlines.refund_state(refunded=case.refunded_at is not None, due_at=case.refund_due_at,
                                  warn_at=case.refund_warn_at, now=now or clock.now())


def may_withhold(case: ReturnCase) -> bool:
    """The shop may wait with the refund until the goods are back or sent (art. 13(3))."""
    return case.goods_received_at is None and case.shipment_proof_at is None


# --- opening a case -----------------------------------------------------------------------------


def open_case(session: Session, shop_id: int, request: Request, *, agent_id: int | None = None,
              order: Order | None = None) -> Opened:
    """Checks everything before it writes; the same withdrawal again returns the first case."""
    if request.source not in SOURCES:
        raise ValueError(f"unknown source {request.source!r}")
    if order is None:
        number = checks.line(request.order_number, "order_number", max_length=64).lstrip("#")
        order = order_service.by_number(session, shop_id, number)
        if order is None:
            raise NotFound(f"no order with number {number!r}", code="order_not_found")
    if order.status == "cancelled":
        raise Invalid(f"order {order.number} is cancelled: there is nothing to withdraw from",
                      code="order_cancelled")
    reason = request.reason.strip()
    check_text(reason, "reason", max_bytes=MAX_REASON * 4)
    if len(reason) > MAX_REASON:
        raise Invalid(f"reason: longer than {MAX_REASON} characters", code="invalid_field")
    if any((ord(c) < 32 and c not in "\n\r\t") or c == "\x7f" for c in reason):
        raise Invalid("reason: contains a control character", code="invalid_field")
    now = clock.now()
    withdrawn_at = _withdrawn_at(request.withdrawn_at, order, now)
    ordered = order_service.lines_of(session, order)
    config = return_settings.load(session, shop_id)
    taken = withdrawn_before(session, order)
    if not request.lines:  # the whole order again, as first asked: the same case
        whole: list[tuple[OrderLine, int, str | None]] = [
            (line, line.quantity, None) for line in ordered if config.exception_for(line.sku) not in EXCLUDED_AT_ONCE]
        existing = _by_key(session, shop_id, order.id, _lines_key(whole)) if whole else None
        if existing is not None:
            return Opened(existing, False, lines_of(session, existing))
    wanted = _wanted(request.lines, ordered, config)
    # The key is the withdrawal as asked (before what earlier cases took is subtracted), so
    # asking the same again finds this case whatever happened in between.
    key = _lines_key(wanted)
    existing = _by_key(session, shop_id, order.id, key)
    if existing is not None:
        return Opened(existing, False, lines_of(session, existing))
    wanted = _left(wanted, taken, bool(request.lines))

    zone, closed = calendar.of_shop(session, shop_id, withdrawn_at)
    found = deadlines.compute(withdrawn_at=withdrawn_at, delivered_at=order.delivered_at, zone=zone, closed=closed)
    case = ReturnCase(
        shop_id=shop_id, order_id=order.id, order_number=order.number, customer_id=order.customer_id,
        lines_key=key, source=request.source, reason=reason,
        language=request.language if request.language in ("nl", "en") else "nl", currency=order.currency,
        withdrawn_at=withdrawn_at, delivered_at=order.delivered_at, delivery_unknown=found.delivery_unknown,
        period_ends_on=found.period_ends_on, in_time=found.in_time, send_back_by=found.send_back_by,
        refund_due_on=found.refund_due_on, refund_due_at=found.refund_due_at, refund_warn_at=found.refund_warn_at,
        delivery_refund=_delivery_refund(session, order, ordered, taken, wanted, config),
        updated_at=now, created_at=now,
    )
    try:
        with session.begin_nested():  # two identical requests at once: one case
            session.add(case)
            session.flush()
    except IntegrityError:
        existing = _by_key(session, shop_id, order.id, key)
        if existing is None:
            raise
        return Opened(existing, False, lines_of(session, existing))
    lines = [ReturnLine(shop_id=shop_id, case_id=case.id, order_line_id=line.id, position=line.position,
                        sku=line.sku, name=line.name, quantity=quantity, price=line.price, exception=exception)
             for line, quantity, exception in wanted]
    session.add_all(lines)
    session.flush()
    promise.schedule_refund(session, case)
    audit_service.record(session, shop_id=shop_id, actor_agent_id=agent_id, action="return.opened",
                         object_type="return", object_id=case.id,
                         data={"order_number": order.number, "source": request.source, "in_time": case.in_time,
                               "delivery_unknown": case.delivery_unknown})
    publish_on_commit(session, Event("return.created", shop_id, {"return_id": case.id, "order_number": order.number}))
    return Opened(case, True, lines)


def _withdrawn_at(given: dt.datetime | None, order: Order, now: dt.datetime) -> dt.datetime:
    if given is None:
        return now
    moment = checks.moment(given, "withdrawn_at")
    assert moment is not None
    if moment > now + CLOCK_SKEW:
        raise Invalid("withdrawn_at: in the future", code="invalid_field")
    if moment < order.placed_at:
        raise Invalid("withdrawn_at: before the order was placed", code="invalid_field")
    return moment


def withdrawn_before(session: Session, order: Order) -> dict[int, int]:
    """Order line id → the quantity already in a case."""
    rows = session.execute(
        select(ReturnLine.order_line_id, ReturnLine.quantity)
        .join(ReturnCase, ReturnCase.id == ReturnLine.case_id)
        .where(ReturnCase.shop_id == order.shop_id, ReturnCase.order_id == order.id)
    ).all()
    taken: dict[int, int] = {}
    for line_id, quantity in rows:
        if line_id is not None:
            taken[line_id] = taken.get(line_id, 0) + quantity
    return taken


def _wanted(requested: Sequence[LineRequest], ordered: list[OrderLine],
            config: return_settings.Settings) -> list[tuple[OrderLine, int, str | None]]:
    """The order lines and quantities asked for (none: every line in full, except what is
    excluded outright); what was withdrawn before is taken off in _left."""
    if len(requested) > MAX_LINES:
        raise Invalid(f"lines: at most {MAX_LINES}", code="invalid_field")
    if not ordered:
        raise Invalid("the order has no lines to withdraw from", code="no_lines")
    chosen: dict[int, tuple[OrderLine, int, str | None]] = {}
    if not requested:
        for line in ordered:
            exception = config.exception_for(line.sku)
            if exception not in EXCLUDED_AT_ONCE:
                chosen[line.id] = (line, line.quantity, exception)
        if not chosen:
            raise Invalid("nothing in this order can be withdrawn (every line is excluded)", code="excluded_line")
        return list(chosen.values())
    for index, item in enumerate(requested):
        where = f"lines[{index}]"
        line = _order_line(item, ordered, where)
        quantity = checks.quantity(item.quantity, f"{where}.quantity")
        if line.id in chosen:
            raise Invalid(f"{where}: line {line.position} ({line.sku or line.name}) is listed twice",
                          code="invalid_field")
        exception = item.exception or config.exception_for(line.sku)
        if item.exception is not None:
            return_settings.check_kind(item.exception, f"{where}.exception")
        if exception in EXCLUDED_AT_ONCE:
            raise Invalid(f"{where}: {line.name} is {exception.replace('_', ' ')}: the right of withdrawal "
                          f"does not apply to it", code="excluded_line")
        if quantity > line.quantity:
            raise Invalid(f"{where}.quantity: {quantity} is more than the {line.quantity} ordered",
                          code="invalid_field")
        chosen[line.id] = (line, quantity, exception)
    return sorted(chosen.values(), key=lambda item: item[0].position)


def _left(wanted: list[tuple[OrderLine, int, str | None]], taken: dict[int, int],
          named: bool) -> list[tuple[OrderLine, int, str | None]]:
    """What may still be withdrawn. Named lines must fit in what is left; the whole order
    shrinks to what is left."""
    left_over = []
    for index, (line, quantity, exception) in enumerate(wanted):
        left = line.quantity - taken.get(line.id, 0)
        if named and quantity > left:
            raise Invalid(f"lines[{index}].quantity: {quantity} is more than the {left} of {line.name} not yet "
                          f"withdrawn", code="invalid_field")
        if min(quantity, left) > 0:
            left_over.append((line, min(quantity, left), exception))
    if not left_over:
        raise Conflict("every line of this order that can be withdrawn already is", code="already_withdrawn")
    return left_over


def _order_line(item: LineRequest, ordered: list[OrderLine], where: str) -> OrderLine:
    if item.position is not None:
        if isinstance(item.position, bool) or not isinstance(item.position, int) or not (
                0 <= item.position < len(ordered)):
            raise Invalid(f"{where}.position: the order has lines 0 to {len(ordered) - 1}", code="invalid_field")
        line = ordered[item.position]
        if item.sku is not None and item.sku.strip() and item.sku.strip() != line.sku:
            raise Invalid(f"{where}: line {item.position} is {line.sku!r}, not {item.sku[:64]!r}", code="invalid_field")
        return line
    sku = checks.line(item.sku, f"{where}.sku", max_length=64)
    matches = [line for line in ordered if line.sku == sku]
    if not matches:
        raise Invalid(f"{where}.sku: the order has no line {sku!r}", code="invalid_field")
    if len(matches) > 1:
        raise Invalid(f"{where}.sku: the order has {sku!r} on several lines: name the position", code="invalid_field")
    return matches[0]


def _lines_key(wanted: list[tuple[OrderLine, int, str | None]]) -> str:
    pairs = sorted((line.id, quantity) for line, quantity, _ in wanted)
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:64]


def _by_key(session: Session, shop_id: int, order_id: int, key: str) -> ReturnCase | None:
    return session.scalars(scoped(ReturnCase, shop_id).where(ReturnCase.order_id == order_id,
                                                             ReturnCase.lines_key == key)).first()


def _delivery_refund(session: Session, order: Order, ordered: list[OrderLine], taken: dict[int, int],
                     wanted: list[tuple[OrderLine, int, str | None]], config: return_settings.Settings) -> Decimal:
    """The delivery goes back with the case that completes the withdrawal of the whole order
    (art. 13(1)), up to the standard delivery cost (13(2)); a part withdrawn gets none of it."""
    now_taken = dict(taken)
    for line, quantity, _ in wanted:
        now_taken[line.id] = now_taken.get(line.id, 0) + quantity
    if any(now_taken.get(line.id, 0) < line.quantity for line in ordered):
        return ZERO
    already = session.scalar(select(ReturnCase.id).where(ReturnCase.shop_id == order.shop_id,
                                                         ReturnCase.order_id == order.id,
                                                         ReturnCase.delivery_refund > 0).limit(1))
    if already is not None:
        return ZERO
    paid = order.total - sum((line.price * line.quantity for line in ordered), ZERO)
    if paid <= 0:
        return ZERO
    standard = config.standard_delivery_cost
    return min(paid, standard) if standard is not None else paid


# --- working a case -----------------------------------------------------------------------------


def record_condition(session: Session, shop_id: int, case_id: int, line_id: int, *, condition: str,
                     notes: str = "", labels_attached: bool | None = None, agent_id: int | None = None) -> ReturnLine:
    """How the goods of one line came back; the goods count as received from now."""
    case = get(session, shop_id, case_id)
    line = _line(session, case, line_id)
    if condition not in CONDITIONS:
        raise Invalid(f"condition: must be one of {', '.join(CONDITIONS)} (got {condition[:40]!r})",
                      code="invalid_field")
    notes = notes.strip()
    check_text(notes, "notes", max_bytes=MAX_NOTES * 4)
    if len(notes) > MAX_NOTES:
        raise Invalid(f"notes: longer than {MAX_NOTES} characters", code="invalid_field")
    line.condition, line.condition_notes, line.labels_attached = condition, notes, labels_attached
    if condition not in ("handled", "damaged") and line.deduction > 0:
        line.deduction, line.deduction_reason = ZERO, ""  # nothing beyond judging them: nothing to deduct
    now = clock.now()
    if case.goods_received_at is None:
        case.goods_received_at = now
    case.updated_at = now
    session.flush()
    _changed(session, case, agent_id, "return.condition_recorded",
             {"line_id": line.id, "condition": condition, "labels_attached": labels_attached})
    return line


def deduct(session: Session, shop_id: int, case_id: int, line_id: int, *, amount: object, reason: str,
           agent_id: int | None = None) -> ReturnLine:
    """Diminished value (art. 14(2)): only for goods handled beyond what is needed to judge
    them, with a reason, never more than the line's value; 0 takes a deduction back."""
    case = get(session, shop_id, case_id)
    line = _line(session, case, line_id)
    if case.refunded_at is not None:
        raise Conflict("the refund was already made", code="already_refunded")
    value = checks.money(amount, "amount")
    assert value is not None
    reason = reason.strip()
    check_text(reason, "reason", max_bytes=MAX_REASON * 4)
    if value > 0:
        if return_settings.load(session, shop_id).policy == "accept_all":
            raise Invalid("the shop's policy accepts every return in full: no deduction", code="policy_accept_all")
        if line.condition not in ("handled", "damaged"):
            raise Invalid("a deduction is only for goods that came back handled beyond what is needed to judge "
                          "them: record the condition first", code="condition_required")
        if not reason:
            raise Invalid("reason: required (say what diminished the value)", code="invalid_field")
        if len(reason) > MAX_REASON:
            raise Invalid(f"reason: longer than {MAX_REASON} characters", code="invalid_field")
        limit = line.price * line.quantity
        if value > limit:
            raise Invalid(f"amount: {value} is more than the line's value ({limit})", code="deduction_too_large")
    line.deduction, line.deduction_reason = value, reason if value > 0 else ""
    case.updated_at = clock.now()
    session.flush()
    _changed(session, case, agent_id, "return.deducted", {"line_id": line.id, "amount": str(value), "reason": reason})
    return line


def record_shipment_proof(session: Session, shop_id: int, case_id: int, *, at: dt.datetime | None = None,
                          agent_id: int | None = None) -> ReturnCase:
    """The customer showed they sent the goods: the shop may no longer withhold the refund."""
    case = get(session, shop_id, case_id)
    now = clock.now()
    moment = now if at is None else checks.moment(at, "at")
    assert moment is not None
    if moment > now + CLOCK_SKEW:
        raise Invalid("at: in the future", code="invalid_field")
    if case.shipment_proof_at is None:
        case.shipment_proof_at, case.updated_at = moment, now
        session.flush()
        _changed(session, case, agent_id, "return.shipment_proof", {"at": moment.isoformat()})
    return case


def record_refund(session: Session, shop_id: int, case_id: int, *, amount: object, reference: str,
                  agent_id: int | None = None) -> tuple[ReturnCase, bool]:
    """The refund was made (by the same means of payment): the promise is met. The same
    refund again changes nothing; a different one is refused."""
    case = get(session, shop_id, case_id)
    value = checks.money(amount, "amount")
    assert value is not None
    reference = checks.line(reference, "reference", max_length=200)
    if case.refunded_at is not None:
        if case.refunded_amount == value and case.refund_reference == reference:
            return case, False
        raise Conflict(f"a refund of {case.refunded_amount} ({case.refund_reference}) was already recorded",
                       code="already_refunded")
    due = refund_due(case, lines_of(session, case))
    if value < due:
        raise Invalid(f"amount: {value} is less than the {due} due (all payments less deductions)",
                      code="refund_too_small")
    now = clock.now()
    case.refunded_at, case.refunded_amount, case.refund_reference, case.updated_at = now, value, reference, now
    session.flush()
    _changed(session, case, agent_id, "return.refunded", {"amount": str(value), "reference": reference})
    return case, True


def _line(session: Session, case: ReturnCase, line_id: int) -> ReturnLine:
    line = session.scalars(scoped(ReturnLine, case.shop_id).where(ReturnLine.case_id == case.id,
                                                                  ReturnLine.id == line_id)).first()
    if line is None:
        raise NotFound(f"return {case.id} has no line {line_id}")
    return line


def _changed(session: Session, case: ReturnCase, agent_id: int | None, action: str, data: dict[str, object]) -> None:
    audit_service.record(session, shop_id=case.shop_id, actor_agent_id=agent_id, action=action,
                         object_type="return", object_id=case.id, data=data)
    publish_on_commit(session, Event("return.updated", case.shop_id, {"return_id": case.id, "action": action}))
