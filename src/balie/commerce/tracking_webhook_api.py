"""POST /webhooks/tracking/{shop_public_key}: the generic tracking webhook (signature, size
and delivery-id checks here; the payload and its effect in commerce/tracking_webhook.py)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from balie.commerce import checks, connections, deliveries, tracking_webhook
from balie.errors import TooLarge, Unauthorized
from balie.web.context import Context

router = APIRouter(tags=["commerce"])
log = logging.getLogger(__name__)


@router.post("/webhooks/tracking/{shop_public_key}")
async def tracking_webhook_in(shop_public_key: str, request: Request) -> JSONResponse:
    # No dependencies: at 500 deliveries a second FastAPI's solving them was a tenth of the
    # work (docs/benchmarks.md, "Tracking webhooks in").
    context: Context = request.app.state.context
    body = await request.body()
    if len(body) > tracking_webhook.MAX_BODY_BYTES:
        raise TooLarge(f"the body is larger than {tracking_webhook.MAX_BODY_BYTES} bytes", code="request_too_large")
    headers = request.headers
    answer = await run_in_threadpool(
        _receive, context, shop_public_key, body, headers.get("x-balie-timestamp"),
        headers.get("x-balie-signature"), headers.get("x-balie-delivery"))
    return JSONResponse(answer)


def _receive(context: Context, public_key: str, body: bytes, timestamp: str | None, signature: str | None,
             delivery_id: str | None) -> dict[str, object]:
    with context.factory() as db:
        found = connections.by_public_key(db, public_key, "tracking")
        if found is None:
            log.warning("tracking webhook refused: no shop %r with a tracking connection", public_key[:64])
            raise Unauthorized("unknown shop, or no tracking connection", code="invalid_signature")
        shop_id, secret = found
        try:
            tracking_webhook.verify(secret, body, timestamp, signature)
        except Unauthorized as error:
            log.warning("tracking webhook refused for shop %s: %s", shop_id, error.detail)
            raise
        payload = tracking_webhook.parse(body)
        if delivery_id is not None:
            delivery_id = checks.line(delivery_id, "X-Balie-Delivery", max_length=128)

        def work() -> dict[str, object]:
            if delivery_id is not None and not deliveries.first_time(db, shop_id, "tracking", delivery_id):
                return {"duplicate": True}
            applied = tracking_webhook.apply(db, shop_id, payload)
            return {"duplicate": False, "shipment_id": applied.shipment_id, "shipment_created": applied.created,
                    "order_id": applied.order_id, "status": applied.status,
                    "events": {"added": applied.added, "known": applied.known, "ignored": applied.ignored}}

        return context.commit_retrying(db, work)
