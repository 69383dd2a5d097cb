"""Orders from a shop's CSV file (`balie import orders`): rows grouped into orders by their
number (one row per order line), every row checked before anything is written, and each
order saved whole or not at all through `orders.save(source="csv")`, so the same file again
changes nothing. The command owns the transactions (a batch of orders each)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from balie import events
from balie.commerce import checks, csv_read, orders
from balie.errors import Invalid

Outcome = Literal["created", "updated", "unchanged", "rejected"]

# Fields given once per order: on later rows of the same order they may be empty or the same.
ORDER_FIELDS = ("total", "currency", "placed_at", "promised_delivery_date", "status", "payment_status", "email",
                "phone", "customer_name", "customer_id")
# Order statuses as Dutch exports write them; anything else goes to orders.check as it is.
STATUS_WORDS = {"afgerond": "completed", "voltooid": "completed", "geannuleerd": "cancelled",
                "canceled": "cancelled", "": "open"}
# How orders.check names a field → the CSV field it came from.
_CORE_FIELDS = {"number": "number", "total": "total", "currency": "currency", "placed_at": "placed_at",
                "status": "status", "payment_status": "payment_status", "customer.email": "email",
                "customer.phone": "phone", "customer.name": "customer_name", "customer.external_id": "customer_id",
                "sku": "sku", "name": "name", "quantity": "quantity", "price": "price", "cost_price": "cost_price"}


@dataclass(frozen=True)
class Rejection:
    row: int
    number: str  # the order number on that row ('' when it has none)
    column: str  # as the file names it; '' for a problem of the whole order
    problem: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.problem}" + (f" (order {self.number})" if self.number else "")


@dataclass
class CsvOrder:
    number: str
    rows: list[int]
    data: orders.OrderInput | None = None
    problems: list[Rejection] = field(default_factory=list)


@dataclass
class _Draft:
    number: str
    rows: list[int] = field(default_factory=list)
    first: dict[str, tuple[int, str]] = field(default_factory=dict)  # order field → (row, value)
    lines: list[orders.LineInput] = field(default_factory=list)
    problems: list[Rejection] = field(default_factory=list)


class _CellProblem(Exception):
    def __init__(self, column: str, problem: str) -> None:
        super().__init__(problem)
        self.column, self.problem = column, problem


def _cell(table: csv_read.Table, cells: list[str], name: str) -> str:
    position = table.columns.get(name)
    return cells[position].strip() if position is not None and position < len(cells) else ""


def _problem(error: Invalid, column: str) -> _CellProblem:
    prefix = f"{column}: "
    return _CellProblem(column, error.detail[len(prefix):] if error.detail.startswith(prefix) else error.detail)


def read_orders(raw: bytes, zone: ZoneInfo) -> tuple[csv_read.Table, list[CsvOrder], list[Rejection]]:
    """The file's orders in the order they first appear, each with its cell problems, and the
    rows that name no order. Raises Invalid for a file that cannot be read at all (encoding,
    missing columns): nothing of it is imported."""
    table = csv_read.read(raw)
    drafts: dict[str, _Draft] = {}
    loose: list[Rejection] = []
    for row, cells in table.rows:
        number_column = table.names["number"]
        try:
            number = checks.line(_cell(table, cells, "number"), number_column, max_length=64).lstrip("#")
            if not number:
                raise Invalid(f"{number_column}: required", code="invalid_field")
        except Invalid as error:
            problem = _problem(error, number_column)
            loose.append(Rejection(row, "", problem.column, problem.problem))
            continue
        draft = drafts.setdefault(number, _Draft(number))
        draft.rows.append(row)
        try:
            _read_row(table, cells, row, draft, zone)
        except _CellProblem as problem:
            draft.problems.append(Rejection(row, number, problem.column, problem.problem))
    return table, [_finish(table, draft, zone) for draft in drafts.values()], loose


def _read_row(table: csv_read.Table, cells: list[str], row: int, draft: _Draft, zone: ZoneInfo) -> None:
    for name in ORDER_FIELDS:
        value = _cell(table, cells, name)
        if not value:
            continue
        if name not in draft.first:
            draft.first[name] = (row, value)
        elif draft.first[name][1] != value:
            first_row, first_value = draft.first[name]
            raise _CellProblem(table.names[name], f"{value[:40]!r} differs from row {first_row} of the same order "
                                                  f"({first_value[:40]!r})")
    names = table.names
    try:
        quantity = csv_read.quantity(_cell(table, cells, "quantity"), names["quantity"])
    except Invalid as error:
        raise _problem(error, names["quantity"]) from None
    try:
        price = csv_read.money(_cell(table, cells, "price"), names["price"])
    except Invalid as error:
        raise _problem(error, names["price"]) from None
    if price is None:
        raise _CellProblem(names["price"], "required")
    cost_price = None
    if "cost_price" in names:
        try:
            cost_price = csv_read.money(_cell(table, cells, "cost_price"), names["cost_price"])
        except Invalid as error:
            raise _problem(error, names["cost_price"]) from None
    draft.lines.append(orders.LineInput(name=_cell(table, cells, "name"), quantity=quantity, price=price,
                                        sku=_cell(table, cells, "sku"), cost_price=cost_price))


def _finish(table: csv_read.Table, draft: _Draft, zone: ZoneInfo) -> CsvOrder:
    order = CsvOrder(draft.number, draft.rows, problems=draft.problems)
    if draft.problems:
        return order
    first_row = draft.rows[0]

    def value(name: str) -> str:
        return draft.first.get(name, (first_row, ""))[1]

    def where(name: str) -> int:
        return draft.first.get(name, (first_row, ""))[0]

    names = table.names
    try:
        try:
            total = csv_read.money(value("total"), names["total"])
        except Invalid as error:
            raise _problem(error, names["total"]) from None
        if total is None:
            raise _CellProblem(names["total"], "required")
        try:
            placed_at = csv_read.moment(value("placed_at"), names["placed_at"], zone)
        except Invalid as error:
            raise _problem(error, names["placed_at"]) from None
        promised = None
        if "promised_delivery_date" in names:
            try:
                promised = csv_read.date(value("promised_delivery_date"), names["promised_delivery_date"])
            except Invalid as error:
                raise _problem(error, names["promised_delivery_date"]) from None
    except _CellProblem as problem:
        field_name = next(name for name in ORDER_FIELDS if names.get(name) == problem.column)
        order.problems.append(Rejection(where(field_name), draft.number, problem.column, problem.problem))
        return order
    order.data = orders.OrderInput(
        number=draft.number, total=total, currency=value("currency"), placed_at=placed_at,
        customer=orders.CustomerInput(email=value("email") or None, phone=value("phone") or None,
                                      name=value("customer_name") or None, external_id=value("customer_id") or None),
        lines=draft.lines, status=STATUS_WORDS.get(value("status").lower(), value("status").lower()),
        payment_status=value("payment_status"),
        promised_delivery_date=promised,
    )
    try:
        orders.check(order.data)
    except Invalid as error:
        order.problems.append(_translate(table, draft, error))
        order.data = None
    return order


def _translate(table: csv_read.Table, draft: _Draft, error: Invalid) -> Rejection:
    """orders.check names fields as the API does (`lines[1].name`); the report names the row
    and the column as the file does."""
    found = re.match(r"lines\[(\d+)\]\.(\w+): (.*)", error.detail, re.DOTALL)
    if found and int(found.group(1)) < len(draft.rows):
        name = _CORE_FIELDS.get(found.group(2), "")
        return Rejection(draft.rows[int(found.group(1))], draft.number, table.names.get(name, found.group(2)),
                         found.group(3))
    found = re.match(r"([\w.]+): (.*)", error.detail, re.DOTALL)
    if found and found.group(1) in _CORE_FIELDS:
        name = _CORE_FIELDS[found.group(1)]
        row = draft.first.get(name, (draft.rows[0], ""))[0]
        return Rejection(row, draft.number, table.names.get(name, found.group(1)), found.group(2))
    return Rejection(draft.rows[0], draft.number, "", error.detail)


def save(session: Session, shop_id: int, order: CsvOrder) -> Outcome:
    """Saves one checked order in a savepoint: whole, or (refused after all) not at all."""
    assert order.data is not None
    try:
        with events.savepoint(session):
            saved = orders.save(session, shop_id, order.data, source="csv")
    except Invalid as error:
        order.problems.append(Rejection(order.rows[0], order.number, "", error.detail))
        return "rejected"
    return "created" if saved.created else "updated" if saved.changed else "unchanged"
