"""Shared by the tracking webhook tests: a tracking service holding a shop's tracking secret,
and the parcel it tells Balie about."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie import clock, security
from balie.shops.models import Shop
from factories import Tenant

PARCEL: dict[str, Any] = {
    "carrier": "PostNL", "tracking_code": "3SABCD1234567", "order_number": "10023",
    "tracking_url": "https://jouw.postnl.nl/track-and-trace/3SABCD1234567-NL-1234AB",
    "events": [{"status": "in_transit", "occurred_at": "2026-11-24T08:00:00+01:00", "description": "Sorteercentrum"}],
}


class Sender:
    """A tracking service holding the shop's tracking secret, as Balie gave it."""

    def __init__(self, client: TestClient, tenant: Tenant, factory: sessionmaker[Session]) -> None:
        self.client = client
        response = client.put("/api/v1/commerce/connections/tracking", json={}, headers=tenant.headers)
        assert response.status_code == 200, response.text
        self.secret: str = response.json()["secret"]
        with factory() as session:
            self.key = session.get_one(Shop, tenant.shop_id).public_key

    def send(self, payload: Any, *, secret: str | None = None, key: str | None = None, shift: int = 0,
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Any:
        body = raw if raw is not None else json.dumps(payload).encode()
        timestamp = str(int(clock.now().timestamp()) + shift)
        signed = {"Content-Type": "application/json", "X-Balie-Timestamp": timestamp,
                  "X-Balie-Signature": security.sign(secret or self.secret, body, timestamp)}
        signed.update(headers or {})
        return self.client.post(f"/webhooks/tracking/{key or self.key}", content=body, headers=signed)
