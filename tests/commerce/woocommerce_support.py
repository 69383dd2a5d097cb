"""Shared by the WooCommerce tests: orders in the shape of WooCommerce's REST API v3 (what its
`order.*` webhooks and `GET /wp-json/wc/v3/orders` send), written from its documentation,
and a signed delivery."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.shops.models import Shop
from factories import Tenant

SECRET = "wc-webhook-secret-0123456789"

ORDER: dict[str, Any] = {
    "id": 727,
    "parent_id": 0,
    "number": "727",
    "order_key": "wc_order_58d2d042d1d",
    "created_via": "checkout",
    "version": "9.4.2",
    "status": "processing",
    "currency": "EUR",
    "date_created": "2026-11-23T21:40:00",
    "date_created_gmt": "2026-11-23T20:40:00",
    "date_modified": "2026-11-23T21:41:00",
    "date_modified_gmt": "2026-11-23T20:41:00",
    "discount_total": "0.00",
    "discount_tax": "0.00",
    "shipping_total": "4.95",
    "shipping_tax": "1.04",
    "cart_tax": "162.00",
    "total": "938.90",
    "total_tax": "163.04",
    "prices_include_tax": True,
    "customer_id": 26,
    "customer_ip_address": "192.0.2.10",
    "customer_user_agent": "Mozilla/5.0",
    "customer_note": "",
    "billing": {"first_name": "Jan", "last_name": "Jansen", "company": "", "address_1": "Dorpsstraat 1",
                "address_2": "", "city": "Utrecht", "state": "", "postcode": "3511 AA", "country": "NL",
                "email": "Jan@Example.nl", "phone": "06 12345678"},
    "shipping": {"first_name": "Jan", "last_name": "Jansen", "company": "", "address_1": "Dorpsstraat 1",
                 "address_2": "", "city": "Utrecht", "state": "", "postcode": "3511 AA", "country": "NL"},
    "payment_method": "ideal",
    "payment_method_title": "iDEAL",
    "transaction_id": "tr_WDqYK6vllg",
    "date_paid": "2026-11-23T21:41:00",
    "date_paid_gmt": "2026-11-23T20:41:00",
    "date_completed": None,
    "date_completed_gmt": None,
    "cart_hash": "ab12",
    "meta_data": [{"id": 13106, "key": "_download_permissions_granted", "value": "yes"},
                  {"id": 13107, "key": "balie_promised_delivery_date", "value": "2026-11-24"}],
    "line_items": [
        {"id": 315, "name": "Laptop 14 inch", "product_id": 93, "variation_id": 0, "quantity": 1,
         "tax_class": "", "subtotal": "742.98", "subtotal_tax": "156.02", "total": "742.98",
         "total_tax": "156.02", "taxes": [], "meta_data": [], "sku": "LAP-14", "price": 742.9752066},
        {"id": 316, "name": "Laptophoes", "product_id": 94, "variation_id": 0, "quantity": 2,
         "tax_class": "", "subtotal": "32.98", "subtotal_tax": "6.92", "total": "32.98",
         "total_tax": "6.92", "taxes": [], "meta_data": [], "sku": "", "price": 16.49},
    ],
    "tax_lines": [],
    "shipping_lines": [{"id": 317, "method_title": "PostNL", "method_id": "flat_rate", "total": "4.95",
                        "total_tax": "1.04", "taxes": [], "meta_data": []}],
    "fee_lines": [],
    "coupon_lines": [],
    "refunds": [],
    "_links": {"self": [{"href": "https://winkel.example/wp-json/wc/v3/orders/727"}]},
}


def wc_order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(ORDER)
    order.update(changes)
    return order


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def connect(client: TestClient, tenant: Tenant, factory: sessionmaker[Session], **extra: Any) -> str:
    """Connects the shop to WooCommerce; returns the webhook URL."""
    response = client.put("/api/v1/commerce/connections/woocommerce", json={"secret": SECRET, **extra},
                          headers=tenant.headers)
    assert response.status_code == 200, response.text
    with factory() as session:
        return f"/webhooks/woocommerce/{session.get_one(Shop, tenant.shop_id).public_key}"


def deliver(client: TestClient, url: str, payload: Any, *, topic: str = "order.updated",
            delivery_id: str | None = None, signature: str | None = "auto", body: bytes | None = None) -> Any:
    raw = body if body is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7)",
               "X-WC-Webhook-Source": "https://winkel.example/", "X-WC-Webhook-Topic": topic,
               "X-WC-Webhook-Resource": topic.split(".")[0], "X-WC-Webhook-Event": topic.split(".")[-1],
               "X-WC-Webhook-ID": "12", "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex}
    if signature == "auto":
        headers["X-WC-Webhook-Signature"] = sign(raw)
    elif signature is not None:
        headers["X-WC-Webhook-Signature"] = signature
    return client.post(url, content=raw, headers=headers)
