"""Shopify's webhook bodies read into the commerce core's inputs. A field that is missing or of
the wrong type is named with Shopify's own name (`line_items[2].quantity`), so the 400 says
what Shopify sent wrong; optional contact data that does not parse (a phone number Shopify
took but nobody can dial) is left out instead of refusing the whole order."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from balie.commerce import orders, shipments
from balie.commerce.shopify import statuses
from balie.customers import service as customer_service
from balie.errors import Invalid

log = logging.getLogger(__name__)

# note_attributes (the checkout's "additional details") that carry the promised delivery date,
# compared lower case with spaces and hyphens as underscores. Shopify has no field of its own.
PROMISE_ATTRIBUTES = ("delivery_date", "bezorgdatum", "leverdatum", "delivery_day", "bezorgdag")
# The core's field names onto Shopify's, for errors the core raises about an order.
ORDER_FIELDS = (("lines", "line_items"), ("total", "total_price"), ("placed_at", "created_at"),
                ("number", "name"), ("customer.external_id", "customer.id"), ("payment_status", "financial_status"),
                ("external_id", "id"))
PARCEL_FIELDS = (("tracking_code", "tracking_numbers"), ("carrier", "tracking_company"), ("order_number", "name"),
                 ("tracking_url", "tracking_urls"), ("occurred_at", "updated_at"), ("external_id", "id"))
MAX_SKU = 64
MAX_LINE_NAME = 300
MAX_CARRIER = 64
MAX_PARCELS = 100  # tracking numbers in one fulfillment
_DUTCH_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


def invalid(field: str, problem: str) -> Invalid:
    return Invalid(f"{field}: {problem}", code="invalid_field")


def require(payload: dict[str, Any], field: str, where: str = "") -> Any:
    value = payload.get(field)
    if value is None or value == "":
        raise invalid(f"{where}{field}", "required")
    return value


def text(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise invalid(field, "expected text")
    return str(value)


def identifier(value: Any, field: str) -> str:
    """Shopify's ids are numbers (the REST shape) or `gid://shopify/Order/123` strings."""
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise invalid(field, "expected an id")
    return str(value).strip().rsplit("/", 1)[-1][:64]


def moment(value: Any, field: str, *, required: bool = True) -> dt.datetime | None:
    if value is None or value == "":
        if required:
            raise invalid(field, "required")
        return None
    if not isinstance(value, str):
        raise invalid(field, "expected a date and time (ISO 8601)")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid(field, f"{value[:40]!r} is not a date and time (ISO 8601)") from None
    if parsed.tzinfo is None:
        raise invalid(field, "give a time zone")
    return parsed


def object_at(payload: dict[str, Any], field: str) -> dict[str, Any]:
    value = payload.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(field, "expected an object")
    return value


def list_at(payload: dict[str, Any], field: str) -> list[Any]:
    value = payload.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(field, "expected a list")
    return value


def renamed(error: Invalid, fields: tuple[tuple[str, str], ...] = ORDER_FIELDS) -> Invalid:
    """The core's error about an order (or a parcel), with Shopify's name for the field."""
    detail = error.detail
    for core, shopify in fields:
        if detail.startswith(core) and detail[len(core):len(core) + 1] in (":", ".", "["):
            return Invalid(shopify + detail[len(core):], code=error.code)
    return error


# --- orders ----------------------------------------------------------------------------


def order_number(order: dict[str, Any]) -> str:
    """What the customer sees and quotes: `name` ("#1001"; a shop may add a prefix or suffix),
    else `order_number`."""
    name = order.get("name")
    if isinstance(name, str) and name.strip().lstrip("#"):
        return name.strip().lstrip("#")
    number = order.get("order_number")
    if number is None or number == "":
        raise invalid("name", "required (or order_number)")
    return text(number, "order_number")


def contact(kind: str, value: Any, field: str) -> str | None:
    """An e-mail address or phone number that parses, else None (logged: kept out, not refused)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise invalid(field, "expected text")
    try:
        customer_service.normalise(kind, value)
    except Invalid:
        log.info("shopify: %s is not a usable %s; left out", field, kind)
        return None
    return value


def customer_input(order: dict[str, Any]) -> orders.CustomerInput:
    customer = object_at(order, "customer")
    billing = object_at(order, "billing_address")
    first, last = customer.get("first_name"), customer.get("last_name")
    name = " ".join(part.strip() for part in (first, last) if isinstance(part, str) and part.strip())
    if not name and isinstance(billing.get("name"), str):
        name = billing["name"].strip()
    customer_id = customer.get("id")
    return orders.CustomerInput(
        email=contact("email", customer.get("email") or order.get("email") or order.get("contact_email"),
                      "customer.email"),
        phone=contact("phone", customer.get("phone") or order.get("phone"), "customer.phone"),
        name=name[:200] or None,
        external_id=identifier(customer_id, "customer.id") if customer_id is not None else None,
    )


def line_inputs(order: dict[str, Any]) -> list[orders.LineInput]:
    lines = []
    for index, item in enumerate(list_at(order, "line_items")):
        where = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise invalid(where, "expected an object")
        name = item.get("name") or item.get("title")
        if name is None or name == "":
            raise invalid(f"{where}.title", "required")
        sku = item.get("sku") or ""
        lines.append(orders.LineInput(
            name=text(name, f"{where}.title")[:MAX_LINE_NAME], sku=text(sku, f"{where}.sku")[:MAX_SKU],
            quantity=require(item, "quantity", f"{where}."), price=require(item, "price", f"{where}.")))
    return lines


def promised_date(order: dict[str, Any]) -> dt.date | None:
    """The promise from the checkout's note_attributes (PROMISE_ATTRIBUTES), as 2026-11-25 or
    25-11-2026; one that does not read as a date is logged and left out, not refused."""
    for attribute in list_at(order, "note_attributes"):
        if not isinstance(attribute, dict) or not isinstance(attribute.get("name"), str):
            continue
        name = re.sub(r"[\s-]+", "_", attribute["name"].strip().lower())
        if name not in PROMISE_ATTRIBUTES:
            continue
        value = attribute.get("value")
        found = parse_date(value) if isinstance(value, str) else None
        if found is None:
            log.warning("shopify: note attribute %r is not a date; no promise read", attribute["name"][:40])
        return found
    return None


def parse_date(value: str) -> dt.date | None:
    value = value.strip()
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        pass
    match = _DUTCH_DATE.match(value)
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def order_status(order: dict[str, Any]) -> str:
    """Cancelled when Shopify says so; completed when the shop archived (closed) it. A fulfilled
    order is shipped, not done: it stays open until then, and its parcels say where it is."""
    if order.get("cancelled_at"):
        return "cancelled"
    if order.get("closed_at"):
        return "completed"
    return "open"


def order_input(order: dict[str, Any]) -> orders.OrderInput:
    external_id = identifier(require(order, "id"), "id")
    placed_at = moment(order.get("created_at") or order.get("processed_at"), "created_at")
    payment = order.get("financial_status") or ""
    return orders.OrderInput(
        number=order_number(order),
        total=require(order, "total_price"),
        currency=require(order, "currency"),
        placed_at=placed_at,
        customer=customer_input(order),
        lines=line_inputs(order),
        status=order_status(order),
        payment_status=text(payment, "financial_status") if payment else "",
        promised_delivery_date=promised_date(order),
        external_id=external_id,
        updated_at=moment(order.get("updated_at"), "updated_at", required=False),
    )


# --- fulfillments ----------------------------------------------------------------------


@dataclass(frozen=True)
class Parcel:
    shipment: shipments.ShipmentInput
    event: shipments.EventInput | None  # None: no shipment_status, or one that says nothing


@dataclass(frozen=True)
class Fulfillment:
    order_id: str | None  # Shopify's order id
    number_from_name: str | None  # "#1001.1" → "1001"
    parcels: list[tuple[str, str | None, str | None]]  # tracking code, url, carrier
    shipment_status: str
    occurred_at: dt.datetime | None
    external_id: str


def fulfillment(payload: dict[str, Any], where: str = "") -> Fulfillment:
    external_id = identifier(require(payload, "id", where), f"{where}id")
    order_id = payload.get("order_id")
    name = payload.get("name")
    from_name = None
    if isinstance(name, str) and name.strip():
        base, _, suffix = name.strip().lstrip("#").rpartition(".")
        from_name = base if base and suffix.isdigit() else None
    if order_id is None and from_name is None:
        raise invalid(f"{where}order_id", "required (or a name such as #1001.1)")
    codes = [text(code, f"{where}tracking_numbers") for code in list_at(payload, "tracking_numbers") if code]
    if len(codes) > MAX_PARCELS:
        raise invalid(f"{where}tracking_numbers", f"at most {MAX_PARCELS}")
    single = payload.get("tracking_number")
    if not codes and single:
        codes = [text(single, f"{where}tracking_number")]
    # Only web addresses are links; Shopify also stores whatever the shop typed.
    urls = [url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
            for url in list_at(payload, "tracking_urls")]
    single_url = payload.get("tracking_url")
    if not urls and isinstance(single_url, str) and single_url.startswith(("https://", "http://")):
        urls = [single_url]
    company = payload.get("tracking_company")
    carrier = text(company, f"{where}tracking_company").strip()[:MAX_CARRIER] if company else None
    # Carriers print codes in groups ("3S ABCD 1234"); the code itself has no spaces.
    parcels = [("".join(code.split()), urls[index] if index < len(urls) else None, carrier)
               for index, code in enumerate(codes) if code.strip()]
    status = payload.get("shipment_status")
    return Fulfillment(
        order_id=identifier(order_id, f"{where}order_id") if order_id is not None else None,
        number_from_name=from_name, parcels=parcels,
        shipment_status=text(status, f"{where}shipment_status") if status else "",
        occurred_at=moment(payload.get("updated_at") or payload.get("created_at"), f"{where}updated_at",
                           required=bool(status)),
        external_id=external_id,
    )


def parcels_of(found: Fulfillment, order_number: str) -> list[Parcel]:
    status = statuses.normalised(found.shipment_status) if found.shipment_status else None
    if found.shipment_status and status is None:
        log.info("shopify: shipment_status %r has no Balie status; parcel kept without a scan",
                 found.shipment_status[:40])
    event = (shipments.EventInput(status=status, occurred_at=found.occurred_at, raw_status=found.shipment_status[:64])
             if status is not None else None)
    return [Parcel(shipments.ShipmentInput(order_number=order_number, carrier=carrier or shipments.UNKNOWN_CARRIER,
                                           tracking_code=code, tracking_url=url, external_id=found.external_id),
                   event)
            for code, url, carrier in found.parcels]
