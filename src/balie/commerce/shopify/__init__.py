"""Shopify: its webhooks (orders, fulfillments, the privacy topics) turned into Balie's orders,
parcels and scans, and the privacy requests acted on."""
