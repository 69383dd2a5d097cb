"""Shopify's fulfillment event statuses (a fulfillment's `shipment_status`, lower case in
webhooks) onto Balie's tracking statuses (`commerce.models.TRACKING_STATUSES`).

The set is Shopify's documented `FulfillmentEventStatus` (Admin API), plus the newer values
of its later API versions; docs/shopify.md has the table and the reasons."""

from __future__ import annotations

from balie.commerce.models import TRACKING_STATUSES

STATUSES: dict[str, str | None] = {
    # Shopify (or the shop) has the parcel's data; no carrier scan yet.
    "confirmed": "info_received",
    "label_purchased": "info_received",
    "label_printed": "info_received",
    "submitted": "info_received",
    # The carrier has it.
    "carrier_picked_up": "in_transit",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "attempted_delivery": "delivery_failed",
    "not_delivered": "delivery_failed",
    "ready_for_pickup": "available_for_pickup",
    "ready_for_recipient_pickup": "available_for_pickup",
    # Collected at the pick-up point: the customer has the goods.
    "picked_up": "delivered",
    "delivered": "delivered",
    # A delay puts the promise at risk: `exception` is what the promise monitor acts on.
    "delayed": "exception",
    "failure": "exception",
    "buyer_action_required": "exception",
    "returning_to_sender": "returned_to_sender",
    # A voided label says nothing about where the parcel is.
    "label_voided": None,
}

assert all(status is None or status in TRACKING_STATUSES for status in STATUSES.values())


def normalised(shipment_status: str) -> str | None:
    """Balie's status for Shopify's; None for a status that says nothing about the parcel's
    whereabouts or one Shopify added after this table (the parcel is kept, without a scan)."""
    return STATUSES.get(shipment_status.strip().lower())
