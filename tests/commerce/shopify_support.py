"""Shared by the Shopify tests: a shop connected to Shopify, and deliveries signed as Shopify
signs them (base64 HMAC-SHA256 of the raw body with the app's secret)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.shops.models import Shop
from factories import Tenant

SECRET = "shpss_test_0123456789abcdef"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "webhooks" / "shopify" / "order.json"


def fixture_order() -> dict[str, Any]:
    """The corpus's REST order; a webhook's body is its inner "order" object."""
    return copy.deepcopy(json.loads(CORPUS.read_text())["order"])


def connect(client: TestClient, tenant: Tenant, factory: sessionmaker[Session], secret: str = SECRET) -> str:
    response = client.put("/api/v1/commerce/connections/shopify", json={"secret": secret}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    with factory() as session:
        return session.get_one(Shop, tenant.shop_id).public_key


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def deliver(client: TestClient, key: str, topic: str, payload: Any, *, webhook_id: str | None = None,
            secret: str | None = SECRET, raw: bytes | None = None, signature: str | None = None) -> httpx.Response:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
               "X-Shopify-Shop-Domain": "winkel.myshopify.com", "X-Shopify-API-Version": "2025-10",
               "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4())}
    if signature is not None:
        headers["X-Shopify-Hmac-SHA256"] = signature
    elif secret is not None:
        headers["X-Shopify-Hmac-SHA256"] = sign(body, secret)
    return client.post(f"/webhooks/shopify/{key}", content=body, headers=headers)


def order(**changes: Any) -> dict[str, Any]:
    """A Dutch shop's order in Shopify's webhook shape."""
    body: dict[str, Any] = {
        "id": 5201100001, "name": "#1002", "order_number": 1002, "email": "jan@example.nl", "phone": None,
        "created_at": "2026-11-23T21:40:00+01:00", "updated_at": "2026-11-23T21:40:05+01:00",
        "processed_at": "2026-11-23T21:40:00+01:00", "cancelled_at": None, "closed_at": None,
        "currency": "EUR", "total_price": "938.90", "financial_status": "paid", "fulfillment_status": None,
        "customer": {"id": 7301, "email": "jan@example.nl", "phone": "+31612345678", "first_name": "Jan",
                     "last_name": "Jansen"},
        "line_items": [{"id": 1, "title": "Laptop 14 inch", "name": "Laptop 14 inch", "sku": "LAP-14",
                        "quantity": 1, "price": "899.00"},
                       {"id": 2, "title": "Laptophoes", "name": "Laptophoes - zwart", "sku": "HOES",
                        "quantity": 2, "price": "19.95"}],
        "note_attributes": [{"name": "Bezorgdatum", "value": "2026-11-24"}],
        "fulfillments": [],
    }
    body.update(changes)
    return body


def fulfillment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": 4100001, "order_id": 5201100001, "name": "#1002.1", "status": "success", "service": "manual",
        "tracking_company": "PostNL", "tracking_number": "3SABCD1234567",
        "tracking_numbers": ["3SABCD1234567"],
        "tracking_url": "https://jouw.postnl.nl/track-and-trace/3SABCD1234567",
        "tracking_urls": ["https://jouw.postnl.nl/track-and-trace/3SABCD1234567"],
        "shipment_status": "in_transit", "created_at": "2026-11-23T22:00:00+01:00",
        "updated_at": "2026-11-24T08:00:00+01:00",
    }
    body.update(changes)
    return body
