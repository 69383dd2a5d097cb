"""What Balie tells a customer about an order, in Dutch and English: its delivery status in
words, the promise, an order summary and the tracking link an agent inserts into a reply,
and the status line of the automatic acknowledgement. Pure: the caller brings the order, its
parcels, the promise the customer last had (promises/latest.py), the language and the shop's
time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency

from balie.commerce.models import Order, OrderLine, Shipment
from balie.commerce.promises.latest import Promise

LANGUAGES = ("nl", "en")

# "Your order 10023 <status>": the newest parcel's status, or the order's own when it has none.
STATUS = {
    "nl": {
        None: "wordt klaargemaakt voor verzending",
        "info_received": "is aangemeld bij de vervoerder en wordt binnenkort opgehaald",
        "in_transit": "is onderweg",
        "out_for_delivery": "wordt vandaag bezorgd",
        "delivered": "is bezorgd",
        "delivery_failed": "kon niet worden bezorgd (er was niemand thuis)",
        "available_for_pickup": "ligt klaar om op te halen",
        "exception": "heeft onderweg een probleem bij de vervoerder",
        "returned_to_sender": "gaat terug naar de winkel",
        "cancelled": "is geannuleerd",
    },
    "en": {
        None: "is being prepared for shipping",
        "info_received": "has been announced to the carrier and will be picked up soon",
        "in_transit": "is on its way",
        "out_for_delivery": "is out for delivery today",
        "delivered": "has been delivered",
        "delivery_failed": "could not be delivered (nobody was home)",
        "available_for_pickup": "is ready for pick-up",
        "exception": "has run into a problem at the carrier",
        "returned_to_sender": "is on its way back to the shop",
        "cancelled": "has been cancelled",
    },
}
# An order's own status, as a short word (the {{order.status}} variable).
ORDER_STATUS = {
    "nl": {"open": "open", "completed": "afgerond", "cancelled": "geannuleerd"},
    "en": {"open": "open", "completed": "completed", "cancelled": "cancelled"},
}
_TEXTS = {
    "nl": {
        "status": "Je bestelling {number} {status}.",
        "delivered_on": "Je bestelling {number} is bezorgd op {date}.",
        "expected": "Verwachte levering: {promise}.",
        "missed": "We hadden levering op {promise} beloofd; we zoeken uit waar je pakket blijft.",
        "track": "Volg je pakket: {url}",
        "track_carrier": "Volg je pakket bij {carrier}: {url}",
        "summary": "Bestelling {number} van {date}",
        "line": "- {quantity} x {name}",
        "total": "Totaal: {total}",
        "window": "{date} tussen {start} en {end}",
        "date": "EEEE d MMMM",
    },
    "en": {
        "status": "Your order {number} {status}.",
        "delivered_on": "Your order {number} was delivered on {date}.",
        "expected": "Expected delivery: {promise}.",
        "missed": "We promised delivery on {promise}; we are finding out where your parcel is.",
        "track": "Track your parcel: {url}",
        "track_carrier": "Track your parcel with {carrier}: {url}",
        "summary": "Order {number} of {date}",
        "line": "- {quantity} x {name}",
        "total": "Total: {total}",
        "window": "{date} between {start} and {end}",
        "date": "EEEE d MMMM",
    },
}


def _language(language: str) -> str:
    return language if language in LANGUAGES else "nl"


def safe_url(url: str | None) -> str | None:
    """A tracking address is only ever shown or sent as an http(s) link."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def money(amount: Decimal, currency: str, language: str) -> str:
    return str(format_currency(amount, currency, locale=_language(language)))


def day(value: dt.date, language: str) -> str:
    return str(format_date(value, _TEXTS[_language(language)]["date"], locale=_language(language)))


def promise(promised: Promise, language: str, zone: ZoneInfo) -> str:
    """'dinsdag 24 november', or 'dinsdag 24 november tussen 18:00 en 22:00'; '' without one."""
    texts = _TEXTS[_language(language)]
    if promised.window is not None:
        start, end = (moment.astimezone(zone) for moment in promised.window)
        return texts["window"].format(date=day(start.date(), language), start=start.strftime("%H:%M"),
                                      end=end.strftime("%H:%M"))
    if promised.date is not None:
        return day(promised.date, language)
    return ""


def promised_day(promised: Promise, zone: ZoneInfo) -> dt.date | None:
    if promised.window is not None:
        return promised.window[1].astimezone(zone).date()
    return promised.date


def delivery_status(order: Order) -> str | None:
    return "cancelled" if order.status == "cancelled" else order.delivery_status


def status_words(order: Order, language: str) -> str:
    return STATUS[_language(language)].get(delivery_status(order), STATUS[_language(language)][None])


def newest_parcel(parcels: Sequence[Shipment]) -> Shipment | None:
    """The parcel the customer will ask about: the one with the newest news."""
    if not parcels:
        return None
    return max(parcels, key=lambda parcel: (parcel.status_at or parcel.created_at, parcel.id))


def tracking_line(parcel: Shipment | None, language: str) -> str:
    if parcel is None or safe_url(parcel.tracking_url) is None:
        return ""
    texts = _TEXTS[_language(language)]
    return texts["track_carrier"].format(carrier=parcel.carrier, url=safe_url(parcel.tracking_url))


def live_status(order: Order, parcels: Sequence[Shipment], promised: Promise, language: str, zone: ZoneInfo,
                today: dt.date) -> str:
    """The order's status as the acknowledgement tells it: what is happening, when it comes (or
    that the promised day has passed), and where to follow the parcel. `promised` is what the
    customer was last promised (promises/latest.py): after a broken promise, the new date."""
    texts = _TEXTS[_language(language)]
    if order.delivered_at is not None and order.status != "cancelled":
        sentences = [texts["delivered_on"].format(number=order.number,
                                                 date=day(order.delivered_at.astimezone(zone).date(), language))]
    else:
        sentences = [texts["status"].format(number=order.number, status=status_words(order, language))]
        written = promise(promised, language, zone)
        due = promised_day(promised, zone)
        if written and due is not None and order.status != "cancelled":
            sentences.append(texts["expected" if due >= today else "missed"].format(promise=written))
    tracking = tracking_line(newest_parcel(parcels), language) if order.status != "cancelled" else ""
    return " ".join(sentences) + (f"\n{tracking}" if tracking else "")


def summary(order: Order, lines: Sequence[OrderLine], parcels: Sequence[Shipment], promised: Promise,
            language: str, zone: ZoneInfo, today: dt.date) -> str:
    """The order summary an agent inserts into a reply: number and date, the lines, the total,
    and its live status."""
    texts = _TEXTS[_language(language)]
    parts = [texts["summary"].format(number=order.number, date=day(order.placed_at.astimezone(zone).date(),
                                                                   language))]
    parts += [texts["line"].format(quantity=line.quantity, name=line.name) for line in lines]
    parts.append(texts["total"].format(total=money(order.total, order.currency, language)))
    return "\n".join(parts) + "\n\n" + live_status(order, parcels, promised, language, zone, today)

