"""Reading a shop's order CSV as spreadsheets export it: the encoding (UTF-8, with or without
BOM, Windows-1252 from Excel, UTF-16 "Unicode text"), the delimiter (`,` `;` tab, or Excel's
`sep=` line), Dutch and English column names in any case, decimal commas and day-first
dates. Every cell problem names its column as the file spells it."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from balie.commerce import checks
from balie.errors import Invalid

# The field each column feeds, by every name a shop's export may give it (compared without
# case, spaces, dashes, dots or underscores: "E-mail" is "email").
ALIASES: dict[str, tuple[str, ...]] = {
    "number": ("ordernummer", "number", "ordernumber", "order", "ordernr", "bestelnummer", "bestelling",
               "orderid", "orderno"),
    "email": ("email", "emailadres", "customeremail", "klantemail"),
    "phone": ("telefoon", "telefoonnummer", "phone", "phonenumber", "mobiel"),
    "customer_name": ("klantnaam", "naamklant", "customername", "customer", "klant"),
    "customer_id": ("klantnummer", "customerid", "externalcustomerid"),
    "total": ("totaal", "total", "totaalbedrag", "ordertotal", "bedrag"),
    "currency": ("valuta", "currency", "munt"),
    "placed_at": ("besteldatum", "placedat", "orderdate", "besteldop", "datum", "date"),
    "promised_delivery_date": ("bezorgdatum", "promiseddeliverydate", "leverdatum", "deliverydate",
                               "beloofdebezorgdatum"),
    "status": ("status", "orderstatus"),
    "payment_status": ("betaalstatus", "paymentstatus", "betaling"),
    "sku": ("sku", "artikelnummer", "artikelcode", "productcode"),
    "name": ("product", "name", "productnaam", "omschrijving", "artikel", "description", "naam"),
    "quantity": ("aantal", "quantity", "qty", "hoeveelheid", "stuks"),
    "price": ("prijs", "price", "stukprijs", "unitprice", "prijsperstuk"),
    "cost_price": ("kostprijs", "costprice", "inkoopprijs"),
}
REQUIRED = ("number", "total", "currency", "placed_at", "name", "quantity", "price")
_BY_ALIAS = {alias: field for field, aliases in ALIASES.items() for alias in aliases}
_DELIMITERS = (",", ";", "\t")


def header_key(name: str) -> str:
    return re.sub(r"[\s_.\-]+", "", name.strip().lower())


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was in. UTF-8 first (a Windows-1252 file with é or € is
    almost never valid UTF-8), then Windows-1252."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8 (BOM)"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise Invalid("the file starts like UTF-16 but is not", code="invalid_encoding") from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as error:
        raise Invalid(f"the file is neither UTF-8 nor Windows-1252 (byte {error.start}: "
                      f"{raw[error.start:error.start + 1]!r}); save it as CSV UTF-8", code="invalid_encoding") from None


def delimiter(text: str) -> tuple[str, str]:
    """The delimiter and the text without Excel's `sep=;` line. Otherwise: whichever of
    `,` `;` tab the header line holds most of (names seldom contain them)."""
    first, _, rest = text.partition("\n")
    found = re.fullmatch(r"\s*sep=(.)\s*", first)
    if found and found.group(1) in _DELIMITERS:
        return found.group(1), rest
    counts = {candidate: first.count(candidate) for candidate in _DELIMITERS}
    best = max(counts, key=lambda candidate: counts[candidate])
    return (best if counts[best] else ","), text


@dataclass(frozen=True)
class Table:
    encoding: str
    delimiter: str
    columns: dict[str, int]  # field → its column's position
    names: dict[str, str]  # field → the column's name in the file
    ignored: list[str]  # columns Balie does not read
    rows: Iterator[tuple[int, list[str]]]  # (row number as a spreadsheet shows it, cells)


def read(raw: bytes) -> Table:
    """The file's columns, checked before any row: a missing or doubled column is refused."""
    text, encoding = decode(raw)
    if "\x00" in text:
        raise Invalid("the file contains NUL bytes: not a CSV text file", code="invalid_file")
    sep, text = delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid("the file is empty", code="invalid_file") from None
    except csv.Error as error:
        raise Invalid(f"row 1: {error}", code="invalid_file") from None
    columns: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored = []
    for position, name in enumerate(header):
        field = _BY_ALIAS.get(header_key(name))
        if field is None:
            if name.strip():
                ignored.append(name.strip()[:60])
            continue
        if field in columns:
            raise Invalid(f"columns {names[field]!r} and {name.strip()[:60]!r} both mean {field}: keep one",
                          code="duplicate_column")
        columns[field], names[field] = position, name.strip()
    missing = [field for field in REQUIRED if field not in columns]
    if missing:
        described = ", ".join(f"{field} ({'/'.join(ALIASES[field][:2])})" for field in missing)
        raise Invalid(f"missing column{'s' if len(missing) > 1 else ''}: {described}; found: "
                      f"{', '.join(repr(name.strip()[:40]) for name in header) or 'none'} (delimiter "
                      f"{'tab' if sep == chr(9) else repr(sep)})", code="missing_columns")
    return Table(encoding, sep, columns, names, ignored, _rows(reader))


def _rows(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # an unclosed quote, a cell over the csv module's limit
            raise Invalid(f"row {number}: the file cannot be read further ({error})", code="invalid_file") from None
        if any(cell.strip() for cell in cells):
            yield number, cells


def money(value: str, column: str) -> Decimal | None:
    """'12,50', '1.234,56', '1,234.56', '€ 12,50' and '12.50' are amounts."""
    text = value.strip().replace("€", "").replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if "," in text and "." in text:
        thousands = "." if text.rindex(",") > text.rindex(".") else ","
        text = text.replace(thousands, "")
    text = text.replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise Invalid(f"{column}: {value.strip()[:40]!r} is not an amount (such as 12,50)", code="invalid_field")
    return checks.money(text, column, required=False)


def quantity(value: str, column: str) -> int:
    text = value.strip()
    # "2,0" is two; "1.000" is refused rather than read as one (it may mean a thousand).
    if not re.fullmatch(r"-?\d{1,9}([.,]0{1,2})?", text):
        raise Invalid(f"{column}: {text[:40]!r} is not a whole number", code="invalid_field")
    return checks.quantity(int(re.split(r"[.,]", text)[0]), column)


_DAY_FIRST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


def date(value: str, column: str) -> dt.date | None:
    """2026-11-24, or day first as Dutch and Belgian spreadsheets write it: 24-11-2026, 24/11/2026."""
    text = value.strip()
    if not text:
        return None
    try:
        found = _DAY_FIRST.fullmatch(text)
        if found:
            return dt.date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{column}: {text[:40]!r} is not a date (2026-11-24 or 24-11-2026)",
                      code="invalid_field") from None


def moment(value: str, column: str, zone: ZoneInfo) -> dt.datetime:
    """A date and time; without a zone it is the shop's local time. A date alone is midnight."""
    text = value.strip()
    if not text:
        raise Invalid(f"{column}: required", code="invalid_field")
    day, _, time = text.replace("T", " ", 1).partition(" ")
    try:
        found = _DAY_FIRST.fullmatch(day)
        if found:
            text = f"{found.group(3)}-{int(found.group(2)):02d}-{int(found.group(1)):02d} {time}".strip()
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{column}: {value.strip()[:40]!r} is not a date and time (2026-11-23 21:40 or "
                      f"23-11-2026 21:40)", code="invalid_field") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    result = checks.moment(parsed, column)
    assert result is not None
    return result
