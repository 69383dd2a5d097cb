"""A WooCommerce REST API v3 order (what its `order.*` webhooks and `GET /wp-json/wc/v3/orders`
send) as Balie's `orders.OrderInput`. Errors name WooCommerce's own field, so a shop owner
can find it in the order."""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import phonenumbers

from balie.commerce import orders
from balie.errors import Invalid

log = logging.getLogger(__name__)

# WooCommerce's order statuses → Balie's order status and payment status.
STATUSES: dict[str, tuple[str, str]] = {
    "pending": ("open", "pending"),        # awaiting payment
    "on-hold": ("open", "on_hold"),        # awaiting payment confirmation (bank transfer)
    "processing": ("open", "paid"),        # paid, to be shipped
    "completed": ("completed", "paid"),
    "cancelled": ("cancelled", "voided"),
    "refunded": ("cancelled", "refunded"),
    "failed": ("cancelled", "failed"),     # payment failed or declined
    "trash": ("cancelled", ""),
}
# Where the promise made at checkout is read from `meta_data` (docs/woocommerce.md).
PROMISED_DATE = "balie_promised_delivery_date"     # YYYY-MM-DD
WINDOW_START = "balie_promised_window_start"       # ISO 8601 with a zone
WINDOW_END = "balie_promised_window_end"
ICONIC_DATE = "jckwds_date_ymd"                    # Iconic "WooCommerce Delivery Slots": YYYYMMDD

# What orders.save names a field → what WooCommerce calls it.
_RENAMES = (("lines[", "line_items["), ("customer.email", "billing.email"), ("customer.phone", "billing.phone"),
            ("customer.name", "billing.first_name"), ("customer.external_id", "customer_id"),
            ("placed_at", "date_created_gmt"), ("updated_at", "date_modified_gmt"),
            ("promised_delivery_window", f"meta_data.{WINDOW_START}"))
_GMT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?")


def _field(order: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str | None = None) -> Any:
    value = order.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
        raise Invalid(f"{where or name}: unexpected type {type(value).__name__}", code="invalid_field")
    return value


def gmt(value: object, field: str, *, required: bool) -> dt.datetime | None:
    """WooCommerce's `*_gmt` times: "2026-11-23T20:40:00", in UTC without a zone."""
    if value is None or value == "":
        if required:
            raise Invalid(f"{field}: required", code="invalid_field")
        return None
    if not isinstance(value, str) or not _GMT.fullmatch(value):
        raise Invalid(f"{field}: expected a time such as 2026-11-23T20:40:00 (GMT)", code="invalid_field")
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    except ValueError:
        raise Invalid(f"{field}: {value[:40]!r} is not a valid time", code="invalid_field") from None


def _unit_price(value: object) -> object:
    """WooCommerce gives a line's unit price as a JSON number that may have more decimals than
    cents (the line's total without tax divided by its quantity): rounded to cents. Anything
    else is left for the checks to name."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return value
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if amount.is_finite() else value


def _text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{field}: expected text", code="invalid_field")
    return value.strip() or None


def _phone(value: str | None, country: str | None) -> str | None:
    """Shops do not check the phone field: a number that does not parse is left out rather than
    refusing the order (WooCommerce disables a webhook that keeps failing). The billing country
    decides how a national number is read."""
    if value is None:
        return None
    region = country.upper() if country and len(country) == 2 else "NL"
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        log.info("woocommerce order: phone number %r left out, it is not a phone number", value[:40])
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _customer(order: dict[str, Any]) -> orders.CustomerInput:
    billing = _field(order, "billing", dict) or {}
    first, last = _text(billing.get("first_name"), "billing.first_name"), _text(billing.get("last_name"),
                                                                                 "billing.last_name")
    customer_id = _field(order, "customer_id", int)
    country = _text(billing.get("country"), "billing.country")
    return orders.CustomerInput(
        email=_text(billing.get("email"), "billing.email"),
        phone=_phone(_text(billing.get("phone"), "billing.phone"), country),
        name=" ".join(part for part in (first, last) if part) or None,
        external_id=str(customer_id) if customer_id else None,  # 0: a guest
    )


def _lines(order: dict[str, Any]) -> list[orders.LineInput]:
    items = _field(order, "line_items", list) or []
    if len(items) > orders.MAX_LINES:
        raise Invalid(f"line_items: at most {orders.MAX_LINES}", code="invalid_field")
    lines = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise Invalid(f"line_items[{index}]: expected an object", code="invalid_field")
        lines.append(orders.LineInput(name=item.get("name"), quantity=item.get("quantity"),
                                      price=_unit_price(item.get("price")), sku=item.get("sku") or ""))
    return lines


def _meta(order: dict[str, Any]) -> dict[str, object]:
    items = _field(order, "meta_data", list) or []
    found: dict[str, object] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise Invalid(f"meta_data[{index}]: expected an object", code="invalid_field")
        key = item.get("key")
        if key in (PROMISED_DATE, WINDOW_START, WINDOW_END, ICONIC_DATE):
            found[key] = item.get("value")
    return found


def _promise(order: dict[str, Any]) -> tuple[dt.date | None, tuple[dt.datetime, dt.datetime] | None]:
    meta = _meta(order)
    date = None
    if meta.get(PROMISED_DATE) not in (None, ""):
        value = meta[PROMISED_DATE]
        try:
            date = dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            date = None
        if date is None:
            raise Invalid(f"meta_data.{PROMISED_DATE}: expected a date (YYYY-MM-DD)", code="invalid_field")
    elif isinstance(meta.get(ICONIC_DATE), str) and re.fullmatch(r"\d{8}", str(meta[ICONIC_DATE])):
        value = str(meta[ICONIC_DATE])
        try:
            date = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            log.info("woocommerce order: %s %r is not a date; no promise read", ICONIC_DATE, value)
    window = None
    start, end = meta.get(WINDOW_START), meta.get(WINDOW_END)
    if start not in (None, "") or end not in (None, ""):
        moments = []
        for key, value in ((WINDOW_START, start), (WINDOW_END, end)):
            try:
                moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                moment = None
            if moment is None or moment.tzinfo is None:
                raise Invalid(f"meta_data.{key}: expected a time with a zone (2026-11-25T18:00:00+01:00)",
                              code="invalid_field")
            moments.append(moment)
        window = (moments[0], moments[1])
    return date, window


def _status(order: dict[str, Any]) -> tuple[str, str]:
    status = _field(order, "status", str)
    if not status:
        raise Invalid("status: required", code="invalid_field")
    if status in STATUSES:
        return STATUSES[status]
    # A status a plugin added ("shipped", "ready-for-pickup"): the order is still going on.
    return "open", "paid" if order.get("date_paid_gmt") else "pending"


def order_input(order: object) -> orders.OrderInput:
    """The order, checked as `orders.save` would; an error names WooCommerce's field."""
    if not isinstance(order, dict):
        raise Invalid("body: expected a JSON object (a WooCommerce order)", code="invalid_field")
    number = _field(order, "number", (str, int))
    order_id = _field(order, "id", int)
    status, payment_status = _status(order)
    date, window = _promise(order)
    data = orders.OrderInput(
        number=str(number) if number is not None else None,
        total=_field(order, "total", (str, int, float)),
        currency=_field(order, "currency", str),
        placed_at=gmt(order.get("date_created_gmt"), "date_created_gmt", required=True),
        customer=_customer(order), lines=_lines(order), status=status, payment_status=payment_status,
        promised_delivery_date=date, promised_window=window,
        external_id=str(order_id) if order_id is not None else None,
        updated_at=gmt(order.get("date_modified_gmt"), "date_modified_gmt", required=False),
    )
    try:
        orders.check(data)
    except Invalid as error:
        raise Invalid(renamed(error.detail), code=error.code) from None
    return data


def renamed(detail: str) -> str:
    for ours, theirs in _RENAMES:
        if detail.startswith(ours):
            return theirs + detail[len(ours):]
    return detail
