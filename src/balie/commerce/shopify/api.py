"""POST /webhooks/shopify/{shop_public_key}: Shopify tells Balie about orders, fulfillments and
privacy requests. Answers: 200 (applied, a repeat, or a topic Balie does not take), 400 (a body
that cannot be applied: Shopify retries it), 401 (signature or shop wrong), 413 (too large)."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from balie.commerce import connections
from balie.commerce.shopify import webhook
from balie.errors import Invalid, TooLarge, Unauthorized
from balie.inputs import check_line
from balie.web.context import Context
from balie.web.deps import Ctx

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])
# Shopify's order bodies run to hundreds of KiB for large orders; the install's own body limit
# (BALIE_MAX_REQUEST_BYTES, also 2 MiB by default) applies first when it is smaller.
MAX_BODY = 2 * 1024 * 1024


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is larger than {limit} bytes", code="request_too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"the body is larger than {limit} bytes", code="request_too_large")
    return bytes(body)


@router.post("/webhooks/shopify/{shop_public_key}", include_in_schema=True,
             responses={401: {"description": "no such shop, no Shopify connection, or a wrong signature"},
                        400: {"description": "the body cannot be applied; the detail names the field"}})
async def shopify_webhook(shop_public_key: str, request: Request, context: Ctx) -> JSONResponse:
    body = await read_body(request, MAX_BODY)
    headers = {name: request.headers.get(f"x-shopify-{name}") for name in ("hmac-sha256", "topic", "webhook-id")}
    answer = await run_in_threadpool(_receive, context, shop_public_key, headers, body)
    return JSONResponse(answer)


def _receive(context: Context, key: str, headers: dict[str, str | None], body: bytes) -> dict[str, str]:
    topic = (headers["topic"] or "").strip()
    with context.factory() as db:
        found = connections.by_public_key(db, key, webhook.PLATFORM)
        if found is None or not webhook.signature_valid(found.secret, body, headers["hmac-sha256"]):
            log.warning("shopify webhook refused: %s for shop key %r, topic %r",
                        "no such shop or connection" if found is None else "wrong or missing signature",
                        key[:64], topic[:64])
            raise Unauthorized("the signature does not match the shop's Shopify secret", code="invalid_signature")
        shop_id = found.shop_id
        if topic not in webhook.TOPICS:
            log.info("shopify webhook for shop %s: topic %r is not taken; ignored", shop_id, topic[:64])
            return {"status": "ignored", "detail": f"topic {topic[:64]!r} is not one Balie takes"}
        delivery_id = _delivery_id(headers["webhook-id"])
        payload = _json(body)
        try:
            outcome = context.commit_retrying(db, lambda: webhook.apply(db, shop_id, topic, delivery_id, payload))
        except Invalid as error:
            log.info("shopify webhook for shop %s, topic %s, refused: %s", shop_id, topic, error.detail)
            raise
        return {"status": "applied" if outcome.applied else "duplicate", "detail": outcome.detail}


def _delivery_id(value: str | None) -> str:
    if not value or not value.strip():
        raise Invalid("X-Shopify-Webhook-Id: required", code="invalid_header")
    try:
        value = check_line(value, "X-Shopify-Webhook-Id").strip()
    except Invalid:
        raise Invalid("X-Shopify-Webhook-Id: contains a control character", code="invalid_header") from None
    if len(value) > 128:
        raise Invalid("X-Shopify-Webhook-Id: longer than 128 characters", code="invalid_header")
    return value


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Invalid("the body is not valid JSON", code="invalid_json") from None
