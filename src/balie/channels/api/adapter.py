"""The generic API channel going out: a signed webhook POST to the shop's URL."""

from __future__ import annotations

import json

import httpx

from balie import clock, netguard, security
from balie.channels.base import Delivery, PermanentFailure, TemporaryFailure

RETRY_STATUSES = {408, 409, 425, 429}


class WebhookAdapter:
    def __init__(self, timeout: float = 10.0, *, allow_private: bool = False) -> None:
        self.timeout = timeout
        self.allow_private = allow_private

    def deliver(self, delivery: Delivery) -> None:
        shop = delivery.shop
        if not shop.webhook_url:
            raise PermanentFailure("no webhook URL configured for the API channel")
        # Checked again at delivery: the name may resolve elsewhere than when it was saved.
        problem = None if self.allow_private else netguard.private_target(shop.webhook_url)
        if problem:
            raise PermanentFailure(f"webhook refused: {problem}")
        body = json.dumps(payload(delivery), separators=(",", ":")).encode()
        timestamp = str(int(clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Balie-Webhook/1",
            "X-Balie-Delivery": delivery.delivery_id,
            "X-Balie-Timestamp": timestamp,
            "X-Balie-Signature": security.sign(shop.webhook_secret, body, timestamp),
        }
        try:
            with httpx.Client(timeout=self.timeout) as client:
                response = client.post(shop.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise TemporaryFailure(f"webhook unreachable: {error.__class__.__name__}: {error}") from error
        if response.is_success:
            return
        reason = f"webhook answered {response.status_code}"
        if response.status_code >= 500 or response.status_code in RETRY_STATUSES:
            raise TemporaryFailure(reason)
        raise PermanentFailure(reason)


def payload(delivery: Delivery) -> dict[str, object]:
    message = delivery.message
    return {
        "type": "message.outbound",
        "delivery_id": delivery.delivery_id,
        "shop_id": delivery.shop.id,
        "conversation_id": delivery.conversation.id,
        "customer": {
            "id": delivery.customer.id,
            "name": delivery.customer.name,
            "identities": [{"kind": i.kind, "value": i.value} for i in delivery.identities],
        },
        "message": {
            "id": message.id,
            "text": message.text,
            "html": message.html,
            "created_at": message.created_at.isoformat(),
            "author": delivery.agent_name,
        },
    }
