"""`balie import orders FILE.csv`: Excel exports in Windows-1252 with semicolons and decimal
commas, UTF-8 with BOM, tabs; Dutch and English column names; several rows per order; bad
rows named by row and column with nothing half-imported; a dry run writes nothing; the same
file twice changes nothing; hostile and oversized files are refused with a reason."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from balie import cli
from balie.commerce import csv_cli
from balie.commerce.models import Order, OrderLine
from factories import Tenant

DUTCH = (
    "Ordernummer;E-mail;Klantnaam;Besteldatum;Bezorgdatum;Valuta;Totaal;SKU;Product;Aantal;Prijs;Kostprijs\r\n"
    "10023;jan@example.nl;Jan Jansen;23-11-2026 21:40;24-11-2026;EUR;€ 25,45;KOF-1;Café crème;2;€ 2,75;1,10\r\n"
    "10023;;;;;;;MOK-2;Mok \"Gezellig\";1;19,95;\r\n"
    "#10024;els@example.be;Élise Dubois;2026-11-24 08:05:00;;EUR;1.234,56;FIETS;Fiets;1;1.234,56;900\r\n"
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("BALIE_DATABASE_URL", database_url)
    monkeypatch.setenv("BALIE_DATA_DIR", str(tmp_path / "data"))


def write(tmp_path: Path, content: bytes | str, *, encoding: str = "utf-8", name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def run(capsys: pytest.CaptureFixture[str], tenant: Tenant, path: Path, *options: str) -> tuple[int, str, str]:
    code = cli.main(["import", "orders", str(path), "--shop", str(tenant.shop_id), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def orders_of(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    items = client.get("/api/v1/orders?limit=100", headers=tenant.headers).json()["items"]
    return {item["number"]: item for item in items}


def count(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        return (session.scalar(select(func.count()).select_from(Order)) or 0,
                session.scalar(select(func.count()).select_from(OrderLine)) or 0)


def test_an_excel_export_in_windows_1252_with_semicolons_and_decimal_commas(
        env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], client: TestClient, tenant: Tenant) -> None:
    path = write(tmp_path, DUTCH, encoding="cp1252")

    code, out, _ = run(capsys, tenant, path)

    assert code == 0, out
    assert "windows-1252, delimiter ';', 3 rows, 2 orders" in out
    assert "Imported 2 orders: 2 new, 0 updated, 0 unchanged." in out
    found = orders_of(client, tenant)
    koffie = found["10023"]
    assert (koffie["total"], koffie["currency"], koffie["source"]) == ("25.45", "EUR", "csv")
    assert koffie["placed_at"].startswith("2026-11-23T20:40:00")  # 21:40 in Amsterdam
    assert koffie["promise"]["date"] == "2026-11-24"
    assert [(line["sku"], line["name"], line["quantity"], line["price"], line["cost_price"])
            for line in koffie["lines"]] == [("KOF-1", "Café crème", 2, "2.75", "1.10"),
                                             ("MOK-2", 'Mok "Gezellig"', 1, "19.95", None)]
    fiets = found["10024"]  # '#10024': the # is not part of the number
    assert fiets["total"] == "1234.56" and fiets["lines"][0]["cost_price"] == "900.00"
    assert fiets["placed_at"].startswith("2026-11-24T07:05:00")
    customer = client.get(f"/api/v1/customers/{fiets['customer_id']}", headers=tenant.headers).json()
    assert customer["name"] == "Élise Dubois"


def test_utf8_with_bom_tabs_english_headers_in_any_case_and_zoned_times(
        env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], client: TestClient, tenant: Tenant) -> None:
    content = ("NUMBER\tEmail\tPlaced_At\tCurrency\tTotal\tName\tQuantity\tPrice\tNotes\tStatus\n"
               "A-1\tpiet@example.nl\t2026-11-23T09:00:00Z\teur\t10.00\tThee €\t1\t10.00\tvia de telefoon\t"
               "Geannuleerd\n")
    path = write(tmp_path, b"\xef\xbb\xbf" + content.encode())

    code, out, _ = run(capsys, tenant, path)

    assert code == 0, out
    assert "utf-8 (BOM), delimiter tab" in out and "Columns not read: 'Notes'." in out
    order = orders_of(client, tenant)["A-1"]
    assert order["placed_at"].startswith("2026-11-23T09:00:00") and order["currency"] == "EUR"
    assert order["lines"][0]["name"] == "Thee €" and order["status"] == "cancelled"


def test_excels_sep_line_and_plain_commas(env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          client: TestClient, tenant: Tenant) -> None:
    sep_line = write(tmp_path, "sep=;\r\nnumber;total;currency;placed_at;name;quantity;price\r\n"
                               "S-1;5,00;EUR;2026-11-23 10:00;Pen;1;5,00\r\n", name="sep.csv")
    commas = write(tmp_path, 'number,total,currency,placed_at,name,quantity,price\n'
                             'C-1,"1,234.50",EUR,2026-11-23,"Bureau, eiken",1,1234.50\n', name="comma.csv")

    assert run(capsys, tenant, sep_line)[0] == 0
    assert run(capsys, tenant, commas)[0] == 0
    found = orders_of(client, tenant)
    assert found["S-1"]["total"] == "5.00"
    assert found["C-1"]["lines"][0]["name"] == "Bureau, eiken" and found["C-1"]["total"] == "1234.50"


def test_a_missing_column_is_named_before_anything_is_imported(
        env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], factory: sessionmaker[Session],
        tenant: Tenant) -> None:
    path = write(tmp_path, "ordernummer;totaal;valuta;besteldatum;product;aantal\n1;5;EUR;2026-11-23;Pen;1\n")

    code, _, err = run(capsys, tenant, path)

    assert code == 2
    assert "missing column: price (prijs/price)" in err and "delimiter ';'" in err
    assert count(factory) == (0, 0)


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_imported(
        env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], factory: sessionmaker[Session],
        tenant: Tenant) -> None:
    path = write(tmp_path, (
        "ordernummer;e-mail;besteldatum;valuta;totaal;product;aantal;prijs\n"
        "1;a@example.nl;2026-11-23 10:00;EUR;10,00;Pen;1;10,00\n"          # row 2: fine
        "2;b@example.nl;2026-11-23 10:00;EUR;10,00;Pen;-2;10,00\n"         # row 3: negative quantity
        "3;c@example.nl;2026-11-23 10:00;EUX;10,00;Pen;1;10,00\n"          # row 4: unknown currency
        "4;geen adres;2026-11-23 10:00;EUR;10,00;Pen;1;10,00\n"            # row 5: not an address
        "5;e@example.nl;31-02-2026;EUR;10,00;Pen;1;10,00\n"                # row 6: no such date
        "6;f@example.nl;2026-11-23 10:00;EUR;10,00;Pen;1;12,5x\n"          # row 7: not an amount
        ";g@example.nl;2026-11-23 10:00;EUR;10,00;Pen;1;10,00\n"           # row 8: no number
        "7;h@example.nl;2026-11-23 10:00;EUR;10,00;Pen;1;10,00\n"          # row 9: fine...
        "7;h@example.nl;2026-11-23 10:00;EUR;12,00;Pen;1;10,00\n"          # row 10: ...but another total
        "8;i@example.nl;2026-11-23 10:00;EUR;10,001;Pen;1;10,00\n"         # row 11: three decimals
    ), encoding="cp1252")
    report = tmp_path / "rejected.csv"

    code, out, _ = run(capsys, tenant, path, "--report", str(report))

    assert code == 1
    for expected in ("row 3, aantal: must be at least 1 (got -2) (order 2)",
                     "row 4, valuta: 'EUX' is not an ISO 4217 currency code",
                     "row 5, e-mail: ",
                     "row 6, besteldatum: '31-02-2026' is not a date and time",
                     "row 7, prijs: '12,5x' is not an amount",
                     "row 8, ordernummer: required",
                     "row 10, totaal: '12,00' differs from row 9 of the same order ('10,00')",
                     "row 11, totaal: more than two decimals",
                     "Nothing imported: 1 of 8 orders are valid"):
        assert expected in out, (expected, out)
    assert count(factory) == (0, 0)
    with report.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0] == ["row", "order", "column", "problem"]
    assert ["3", "2", "aantal", "must be at least 1 (got -2)"] in rows

    code, out, _ = run(capsys, tenant, path, "--skip-invalid")
    assert code == 1 and "Imported 1 orders: 1 new" in out
    assert count(factory) == (1, 1)


def test_a_dry_run_checks_everything_and_writes_nothing(
        env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], factory: sessionmaker[Session],
        tenant: Tenant) -> None:
    path = write(tmp_path, DUTCH, encoding="cp1252")

    code, out, _ = run(capsys, tenant, path, "--dry-run")

    assert code == 0 and "Dry run, nothing written: 2 orders would be imported (2 new, 0 already in Balie" in out
    assert count(factory) == (0, 0)
    run(capsys, tenant, path)
    code, out, _ = run(capsys, tenant, path, "--dry-run")
    assert "(0 new, 2 already in Balie" in out


def test_the_same_file_again_changes_nothing(env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             client: TestClient, tenant: Tenant,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_cli, "BATCH", 1)  # one order per transaction, as after a crash mid-file
    path = write(tmp_path, DUTCH, encoding="cp1252")
    first_half = write(tmp_path, DUTCH.rsplit("#10024", 1)[0], encoding="cp1252", name="half.csv")

    assert run(capsys, tenant, first_half)[0] == 0
    before = orders_of(client, tenant)["10023"]["updated_at"]
    code, out, _ = run(capsys, tenant, path)
    again = run(capsys, tenant, path)[1]

    assert code == 0 and "Imported 2 orders: 1 new, 0 updated, 1 unchanged." in out
    assert "Imported 2 orders: 0 new, 0 updated, 2 unchanged." in again
    assert orders_of(client, tenant)["10023"]["updated_at"] == before
    changed = write(tmp_path, DUTCH.replace("Fiets;1;", "Fiets;2;").replace("1.234,56;FIETS", "2.469,12;FIETS"),
                    encoding="cp1252", name="changed.csv")
    assert "0 new, 1 updated, 1 unchanged" in run(capsys, tenant, changed)[1]
    assert orders_of(client, tenant)["10024"]["total"] == "2469.12"


def test_hostile_and_oversized_values_are_rejected_by_row(
        env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], factory: sessionmaker[Session],
        tenant: Tenant) -> None:
    header = "number;total;currency;placed_at;name;quantity;price\n"
    path = write(tmp_path, header + (
        f"1;1,00;EUR;2026-11-23;{'x' * 400};1;1,00\n"                       # name too long
        "2;1,00;EUR;2026-11-23;Pen\x07;1;1,00\n"                            # control character
        "=HYPERLINK(\"http://evil.example\");1,00;EUR;2026-11-23;Pen;0;1,00\n"  # a formula as number
        "4;99999999999,00;EUR;2026-11-23;Pen;1;1,00\n"                      # amount too large
        "5;1,00;EUR;2026-11-23;Pen;99999999999;1,00\n"                      # quantity too large
        "5b;1,00;EUR;2026-11-23;Pen;1.000;1,00\n"                          # a thousand, or one?
        "6;1,00;EUR;1800-01-01;Pen;1;1,00\n"                                # out of range
    ))
    report = tmp_path / "report.csv"

    code, out, _ = run(capsys, tenant, path, "--report", str(report))

    assert code == 1
    assert "row 2, name: longer than 300 characters" in out
    assert "row 3, name: contains a control or invalid character" in out
    assert "row 4, quantity: must be at least 1 (got 0) (order =HYPERLINK" in out
    assert "row 5, total: larger than 9999999999.99" in out
    assert "row 6, quantity: " in out and "row 7, quantity: '1.000' is not a whole number" in out
    assert "row 8, placed_at: " in out
    assert count(factory) == (0, 0)
    assert "'=HYPERLINK" in report.read_text(encoding="utf-8-sig")  # shown in Excel, not run


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"number;total\x00;currency\n", "NUL"),
    (b"number;total;currency;placed_at;name;quantity;price\n\x81\x8d;1;EUR;2026-11-23;Pen;1;1\n",
     "neither UTF-8 nor Windows-1252"),
    (b"number;total;currency;placed_at;name;quantity;price\n1;1;EUR;2026-11-23;\"" + b"x" * 200_000 + b"\";1;1\n",
     "row 2: the file cannot be read further"),
    (b"number;Totaal;total;currency;placed_at;name;quantity;price\n", "columns 'Totaal' and 'total' both mean total"),
])
def test_files_that_cannot_be_read_are_refused_whole(env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     factory: sessionmaker[Session], tenant: Tenant,
                                                     content: bytes, message: str) -> None:
    code, _, err = run(capsys, tenant, write(tmp_path, content))

    assert code == 2 and message in err, err
    assert count(factory) == (0, 0)


def test_an_unknown_shop_or_file_is_one_line_on_stderr(env: None, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str], tenant: Tenant) -> None:
    assert cli.main(["import", "orders", str(tmp_path / "missing.csv"), "--shop", str(tenant.shop_id)]) == 2
    assert "cannot read" in capsys.readouterr().err
    path = write(tmp_path, DUTCH)
    assert cli.main(["import", "orders", str(path), "--shop", "Geen Winkel"]) == 2
    assert "no shop 'Geen Winkel'" in capsys.readouterr().err
