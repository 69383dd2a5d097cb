"""`balie import orders FILE.csv`: the entry point of the CSV import. It reads and checks the
whole file first; by default one rejected row stops the import before anything is written
(`--skip-invalid` imports the valid orders and reports the rest). Orders are committed 500
to a transaction: after a crash, running the same file again is safe (the same number is
the same order; orders already imported are unchanged)."""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.commerce import csv_import
from balie.commerce.models import Order
from balie.errors import BalieError, Invalid
from balie.shops import service as shop_service

BATCH = 500
SHOWN = 50  # rejections printed; all of them go to --report


def run(args: argparse.Namespace, factory: sessionmaker[Session]) -> int:
    path = Path(args.file)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise BalieError(f"cannot read {path}: {error.strerror}", code="unreadable_file") from None
    with factory() as session:
        shop = shop_service.find(session, args.shop)
        shop_id, shop_name = shop.id, shop.name
        try:
            zone = ZoneInfo(shop.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("Europe/Amsterdam")
    table, found, loose = csv_import.read_orders(raw, zone)
    rows = sum(len(order.rows) for order in found) + len(loose)
    delimiter = "tab" if table.delimiter == "\t" else repr(table.delimiter)
    print(f"{path.name}: {table.encoding}, delimiter {delimiter}, {rows} rows, {len(found)} orders "
          f"for shop {shop_id} ({shop_name}).")
    if table.ignored:
        print(f"Columns not read: {', '.join(repr(name) for name in table.ignored)}.")
    valid = [order for order in found if order.data is not None]
    rejections = loose + [problem for order in found for problem in order.problems]
    if rejections and not args.skip_invalid:
        _report(args, table.delimiter, rejections, len(found) - len(valid))
        print(f"Nothing imported: {len(valid)} of {len(found)} orders are valid. Fix the rows above, or run "
              f"again with --skip-invalid to import the valid orders.")
        return 1
    if args.dry_run:
        known = _known(factory, shop_id, [order.number for order in valid])
        if rejections:
            _report(args, table.delimiter, rejections, len(found) - len(valid))
        print(f"Dry run, nothing written: {len(valid)} orders would be imported ({len(valid) - known} new, "
              f"{known} already in Balie, updated where they differ).")
        return 1 if rejections else 0
    outcomes = _import(factory, shop_id, valid)
    rejections = loose + [problem for order in found for problem in order.problems]
    if rejections:
        _report(args, table.delimiter, rejections, len(found) - len(valid) + outcomes["rejected"])
    print(f"Imported {outcomes['created'] + outcomes['updated'] + outcomes['unchanged']} orders: "
          f"{outcomes['created']} new, {outcomes['updated']} updated, {outcomes['unchanged']} unchanged.")
    return 1 if rejections else 0


def _known(factory: sessionmaker[Session], shop_id: int, numbers: list[str]) -> int:
    known = 0
    with factory() as session:
        for start in range(0, len(numbers), BATCH):
            chunk = numbers[start:start + BATCH]
            known += len(list(session.scalars(select(Order.number).where(Order.shop_id == shop_id,
                                                                         Order.number.in_(chunk)))))
    return known


def _import(factory: sessionmaker[Session], shop_id: int, valid: list[csv_import.CsvOrder]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    progress = Progress(TextColumn("Importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=Console(stderr=True))
    with progress, factory() as session:
        task = progress.add_task("orders", total=len(valid))
        for start in range(0, len(valid), BATCH):
            batch = valid[start:start + BATCH]
            try:
                for order in batch:
                    outcomes[csv_import.save(session, shop_id, order)] += 1
                session.commit()
            except BaseException:
                session.rollback()
                raise
            progress.advance(task, len(batch))
    return outcomes


def _report(args: argparse.Namespace, delimiter: str, rejections: list[csv_import.Rejection], orders: int) -> None:
    rejections = sorted(rejections, key=lambda item: item.row)
    print(f"Rejected: {orders} order{'s' if orders != 1 else ''}, {len(rejections)} "
          f"problem{'s' if len(rejections) != 1 else ''} (row numbers as a spreadsheet shows them; "
          f"an order with a problem is not imported at all):")
    for rejection in rejections[:SHOWN]:
        print(f"  {rejection}")
    if len(rejections) > SHOWN:
        print(f"  … and {len(rejections) - SHOWN} more" + ("" if args.report else " (all of them: --report FILE)"))
    if args.report:
        _write_report(Path(args.report), delimiter, rejections)
        print(f"Report: {args.report}")


def _write_report(path: Path, delimiter: str, rejections: list[csv_import.Rejection]) -> None:
    """The same delimiter as the shop's file, UTF-8 with BOM: Excel opens it as it opened theirs.
    A cell that starts like a formula is quoted with ' so Excel shows it instead of running it."""
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out, delimiter=delimiter)
            writer.writerow(["row", "order", "column", "problem"])
            for item in rejections:
                writer.writerow([item.row, *(_cell(text) for text in (item.number, item.column, item.problem))])
    except OSError as error:
        raise Invalid(f"cannot write the report {path}: {error.strerror}", code="unwritable_report") from None


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
