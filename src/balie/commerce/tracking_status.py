"""Raw tracking statuses as shops receive them (AfterShip tags and subtags, Sendcloud parcel
statuses) mapped onto Balie's normalised model (`models.TRACKING_STATUSES`). Shopify's
fulfillment event statuses are mapped beside the Shopify webhook. The table in
docs/commerce.md ("Tracking statuses") is this file in words; keep the two together.

`normalise` answers the normalised status, or None for a status that is known but says
nothing about where the parcel is (AfterShip `Pending`, Sendcloud `Cancelled`, ...): the
caller skips that event. A status that is not known is refused with its name, so a new
status from a service is seen and added here rather than guessed."""

from __future__ import annotations

import re

from balie.commerce.models import TRACKING_STATUSES
from balie.errors import Invalid

# What the sender says its `status` values are: Balie's own, or one service's raw ones.
STATUS_SOURCES = ("balie", "aftership", "sendcloud")

# AfterShip's delivery statuses ("tags"). Pending: AfterShip has no information yet.
AFTERSHIP_TAGS: dict[str, str | None] = {
    "pending": None,
    "inforeceived": "info_received",
    "intransit": "in_transit",
    "outfordelivery": "out_for_delivery",
    "attemptfail": "delivery_failed",
    "delivered": "delivered",
    "availableforpickup": "available_for_pickup",
    "exception": "exception",
    "expired": "exception",  # no scan for 30 days: for the promise, the parcel is lost
}
# Subtags ("Exception_011") whose meaning differs from their tag's; any other subtag of a
# known tag (AfterShip adds them over time: Delivered_005) means what its tag means.
AFTERSHIP_SUBTAGS: dict[str, str | None] = {
    "exception_010": "returned_to_sender",  # returning to sender
    "exception_011": "returned_to_sender",  # returned to sender
}
_SUBTAG = re.compile(r"([a-z]+)_(\d{3})")

# Sendcloud parcel statuses by id, with their message (a sender may send either).
SENDCLOUD: dict[int, tuple[str, str | None]] = {
    999: ("No label", None),
    1000: ("Ready to send", "info_received"),
    1001: ("Being announced", "info_received"),
    1: ("Announced", "info_received"),
    13: ("Announced: not collected", "info_received"),
    1002: ("Announcement failed", "exception"),
    15: ("Error collecting", "exception"),
    22: ("Shipment picked up by driver", "in_transit"),
    3: ("En route to sorting center", "in_transit"),
    62990: ("At sorting centre", "in_transit"),
    7: ("Being sorted", "in_transit"),
    5: ("Sorted", "in_transit"),
    6: ("Not sorted", "exception"),
    91: ("Parcel en route", "in_transit"),
    62989: ("At Customs", "in_transit"),
    4: ("Delivery delayed", "exception"),
    92: ("Driver en route", "out_for_delivery"),
    8: ("Delivery attempt failed", "delivery_failed"),
    80: ("Unable to deliver", "exception"),
    12: ("Awaiting customer pickup", "available_for_pickup"),
    11: ("Delivered", "delivered"),
    93: ("Shipment collected by customer", "delivered"),
    62991: ("Refused by recipient", "exception"),
    62992: ("Returned to sender", "returned_to_sender"),
    62996: ("Exception", "exception"),
    62997: ("Address invalid", "exception"),
    # Changes the recipient or carrier made: no scan, the parcel is where it was.
    62993: ("Delivery method changed", None),
    62994: ("Delivery date changed", None),
    62995: ("Delivery address changed", None),
    # The label, not the parcel: nothing has moved.
    1337: ("Unknown status - check carrier track & trace page for more insights", None),
    94: ("Parcel cancellation failed.", None),
    1998: ("Cancelled upstream", None),
    1999: ("Cancellation requested", None),
    2000: ("Cancelled", None),
    2001: ("Submitting cancellation request", None),
}
_SENDCLOUD_BY_MESSAGE = {message.lower().rstrip("."): status for message, status in SENDCLOUD.values()}


def normalise(raw: object, source: str = "balie", *, field: str = "status") -> str | None:
    """The normalised status for `raw` from `source`; None when it is known to say nothing
    about the parcel's whereabouts. An unknown status is refused, naming it and the field."""
    if source not in STATUS_SOURCES:
        raise Invalid(f"status_source: one of {', '.join(STATUS_SOURCES)}", code="invalid_field")
    if isinstance(raw, bool) or not isinstance(raw, str | int) or (isinstance(raw, str) and not raw.strip()):
        raise Invalid(f"{field}: required (text{' or a number' if source == 'sendcloud' else ''})",
                      code="invalid_field")
    text = str(raw).strip()
    if source == "balie":
        if text in TRACKING_STATUSES:
            return text
    elif source == "aftership":
        key = text.lower()
        if key in AFTERSHIP_SUBTAGS:
            return AFTERSHIP_SUBTAGS[key]
        match = _SUBTAG.fullmatch(key)
        tag = match.group(1) if match else key
        if tag in AFTERSHIP_TAGS:
            return AFTERSHIP_TAGS[tag]
    elif text.isdigit():
        if int(text) in SENDCLOUD:
            return SENDCLOUD[int(text)][1]
    elif text.lower().rstrip(".") in _SENDCLOUD_BY_MESSAGE:
        return _SENDCLOUD_BY_MESSAGE[text.lower().rstrip(".")]
    shown = text[:60] + ("…" if len(text) > 60 else "")
    known = (", ".join(TRACKING_STATUSES) if source == "balie"
             else "see docs/commerce.md, Tracking statuses")
    raise Invalid(f"{field}: unknown {source} status {shown!r} ({known})", code="unknown_status")
