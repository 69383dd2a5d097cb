"""POST /webhooks/woocommerce/{shop_public_key}: WooCommerce's order webhooks. Nothing is trusted
before the signature checks out; the ping WooCommerce sends when a webhook is saved is answered."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from balie.commerce import connections
from balie.commerce.woocommerce import webhooks
from balie.errors import Invalid, Unauthorized
from balie.web.context import Context
from balie.web.deps import Ctx

log = logging.getLogger(__name__)
router = APIRouter(tags=["commerce"])


@router.post("/webhooks/woocommerce/{shop_public_key}",
             responses={401: {"description": "unknown shop, no WooCommerce connection, or a wrong signature"}})
async def woocommerce_webhook(shop_public_key: str, request: Request, context: Ctx) -> JSONResponse:
    """Topics `order.created`, `order.updated`, `order.restored`, `order.deleted`; others are
    answered 200 and ignored. The same `X-WC-Webhook-Delivery-ID` twice changes nothing."""
    body = await request.body()
    headers = request.headers
    result = await run_in_threadpool(
        _handle, context, shop_public_key, body, headers.get("x-wc-webhook-topic"),
        headers.get("x-wc-webhook-signature"), headers.get("x-wc-webhook-delivery-id"))
    return JSONResponse({"status": result.outcome, "order_id": result.order_id})


def _handle(context: Context, public_key: str, body: bytes, topic: str | None, signature: str | None,
            delivery_id: str | None) -> webhooks.Result:
    with context.factory() as db:
        found = connections.by_public_key(db, public_key, webhooks.PLATFORM)
        if found is None:
            log.warning("woocommerce webhook refused: no shop with a WooCommerce connection for key %r",
                        public_key[:64])
            raise Unauthorized("unknown shop or not connected to WooCommerce", code="invalid_signature")
        shop_id, secret = found
    if webhooks.is_ping(body, topic, signature):
        log.info("woocommerce webhook ping for shop %s answered", shop_id)
        return webhooks.Result("pong")
    if not webhooks.signature_ok(secret, body, signature):
        log.warning("woocommerce webhook refused for shop %s: %s signature (topic %r)", shop_id,
                    "wrong" if signature else "no", (topic or "")[:64])
        raise Unauthorized("missing or wrong X-WC-Webhook-Signature", code="invalid_signature")
    if not topic:
        raise Invalid("X-WC-Webhook-Topic: required", code="invalid_header")
    if not delivery_id:
        raise Invalid("X-WC-Webhook-Delivery-ID: required", code="invalid_header")
    if topic not in (*webhooks.ORDER_TOPICS, webhooks.DELETED):
        log.info("woocommerce webhook for shop %s: topic %r ignored", shop_id, topic[:64])
        return webhooks.Result("ignored")
    payload, kind, delivery = webhooks.parse(body), topic, delivery_id
    with context.factory() as db:
        return context.commit_retrying(db, lambda: webhooks.receive(db, shop_id, topic=kind, delivery_id=delivery,
                                                                    payload=payload))
