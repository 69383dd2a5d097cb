"""What a customer reads about an order: every tracking status in words in both languages,
the promise, and only http(s) tracking addresses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from balie.commerce import texts
from balie.commerce.models import TRACKING_STATUSES, Order, Shipment
from balie.commerce.promises.latest import Promise

ZONE = ZoneInfo("Europe/Amsterdam")
TODAY = dt.date(2026, 11, 24)


def order(**values: object) -> Order:
    defaults: dict[str, object] = {"number": "10023", "status": "open", "total": Decimal("938.90"), "currency": "EUR",
                                   "placed_at": dt.datetime(2026, 11, 23, 20, 40, tzinfo=dt.UTC),
                                   "promised_delivery_date": dt.date(2026, 11, 25)}
    return Order(**{**defaults, **values})


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("status", [*TRACKING_STATUSES, None])
def test_every_status_has_words(language: str, status: str | None) -> None:
    words = texts.status_words(order(delivery_status=status), language)
    assert words and words != texts.STATUS["nl" if language == "en" else "en"].get(status)


@pytest.mark.parametrize(("url", "safe"), [
    ("https://postnl.example/track/3S", "https://postnl.example/track/3S"),
    ("http://dhl.example/?code=1&x=<b>", "http://dhl.example/?code=1&x=<b>"),
    ("javascript:alert(1)", None), ("JAVASCRIPT://%0aalert(1)", None), ("data:text/html,<script>", None),
    ("/track/3S", None), ("//evil.example", None), ("", None), (None, None), ("https://", None),
])
def test_only_http_addresses_are_tracking_links(url: str | None, safe: str | None) -> None:
    assert texts.safe_url(url) == safe


def test_live_status_in_both_languages_and_for_a_window() -> None:
    parcel = Shipment(carrier="DHL", tracking_code="JVGL1", tracking_url="https://dhl.example/JVGL1", id=1,
                      status="out_for_delivery", status_at=dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC))
    start = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
    windowed = order(promised_delivery_date=None, promised_window_start=start,
                     promised_window_end=start + dt.timedelta(hours=4), delivery_status="out_for_delivery")
    assert texts.live_status(windowed, [parcel], Promise.at_checkout(windowed), "nl", ZONE, TODAY) == (
        "Je bestelling 10023 wordt vandaag bezorgd. Verwachte levering: dinsdag 24 november tussen 18:00 en "
        "22:00.\nVolg je pakket bij DHL: https://dhl.example/JVGL1")
    assert texts.live_status(windowed, [parcel], Promise.at_checkout(windowed), "en", ZONE, TODAY) == (
        "Your order 10023 is out for delivery today. Expected delivery: Tuesday 24 November between 18:00 and "
        "22:00.\nTrack your parcel with DHL: https://dhl.example/JVGL1")


def test_a_cancelled_order_says_so_and_nothing_more() -> None:
    cancelled = order(status="cancelled", delivery_status="in_transit")
    assert texts.live_status(cancelled, [], Promise.at_checkout(cancelled), "nl", ZONE, TODAY) == (
        "Je bestelling 10023 is geannuleerd.")


def test_a_new_date_told_after_a_broken_promise_replaces_the_window() -> None:
    start = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
    windowed = order(promised_delivery_date=None, promised_window_start=start,
                     promised_window_end=start + dt.timedelta(hours=4))
    revised = Promise(date=dt.date(2026, 11, 26), revised=True)
    assert texts.live_status(windowed, [], revised, "nl", ZONE, TODAY) == (
        "Je bestelling 10023 wordt klaargemaakt voor verzending. Verwachte levering: donderdag 26 november.")
    # The new date passed too: it is the one the customer is reminded of, not the first.
    assert texts.live_status(windowed, [], revised, "en", ZONE, dt.date(2026, 11, 27)) == (
        "Your order 10023 is being prepared for shipping. We promised delivery on Thursday 26 November; we are "
        "finding out where your parcel is.")
