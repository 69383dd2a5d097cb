"""GET /api/v1/public/shops/{public_key}/reachability: public, no login, read by the chat
widget on every page of the shop's site. So it is cheap: browsers keep it 15 s, this process
keeps it 10 s per shop, and each address may ask `RATE_LIMIT` times a minute.

The JSON shape is a public contract (docs/widget.md, "Reachability")."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from balie import clock
from balie.reachability import service
from balie.reachability.service import ChannelReach, Reachability
from balie.web.deps import DB, Ctx
from balie.web.errors import error_response

router = APIRouter(prefix="/api/v1/public", tags=["widget"])

MAX_AGE_SECONDS = 15
CACHE_SECONDS = 10
CACHE_SIZE = 2000
RATE_LIMIT = 120  # requests a minute from one address
RATE_WINDOW_SECONDS = 60


class _Cache:
    """What this process computed lately, per shop key (a busy shop's visitors share it)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[dt.datetime, Reachability]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: dt.datetime) -> Reachability | None:
        with self._lock:
            found = self._items.get(key)
        return found[1] if found and found[0] > now else None

    def put(self, key: str, now: dt.datetime, value: Reachability) -> None:
        with self._lock:
            if len(self._items) >= CACHE_SIZE:
                self._items.clear()  # rare, and simpler than tracking age
            self._items[key] = (now + dt.timedelta(seconds=CACHE_SECONDS), value)


def _cache(request: Request) -> _Cache:
    cache: _Cache | None = getattr(request.app.state, "reachability_cache", None)
    if cache is None:
        cache = request.app.state.reachability_cache = _Cache()
    return cache


def _cors(request: Request, allowed: list[str]) -> dict[str, str]:
    """Any site when the shop lists none; else only the listed ones (the browser hides the
    answer from any other)."""
    if not allowed:
        return {"Access-Control-Allow-Origin": "*"}
    origin = request.headers.get("origin", "")
    headers = {"Vary": "Origin"}
    if origin.rstrip("/").lower() in allowed:
        headers["Access-Control-Allow-Origin"] = origin
    return headers


@router.get("/shops/{public_key}/reachability", summary="How the shop can be reached right now")
def reachability(public_key: str, request: Request, db: DB, context: Ctx) -> Response:
    """Channels offered (chat, phone, WhatsApp, e-mail), open now or when they open, expected
    reply times, the call-back promise. No authentication; CORS per the shop's allowed sites."""
    address = request.client.host if request.client else "unknown"
    if context.limiter.hit(f"reachability:ip:{address}", RATE_WINDOW_SECONDS) > RATE_LIMIT:
        response = error_response(429, "rate_limited", "too many requests; try again in a minute")
        response.headers.update({"Retry-After": str(RATE_WINDOW_SECONDS), "Access-Control-Allow-Origin": "*"})
        return response
    now = clock.now()
    cache = _cache(request)
    found = cache.get(public_key, now)
    if found is None:
        shop = service.shop_by_public_key(db, public_key)
        if shop is None:
            response = error_response(404, "not_found", "no shop has this public key")
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response
        found = service.reachability(db, shop, now)
        cache.put(public_key, now, found)
    db.close()
    headers = {"Cache-Control": f"public, max-age={MAX_AGE_SECONDS}", **_cors(request, found.allowed_origins)}
    return JSONResponse(as_json(found), headers=headers)


def _iso(moment: dt.datetime | None, zone: dt.tzinfo | None) -> str | None:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment is not None else None


def _channel_json(reach: ChannelReach, zone: dt.tzinfo | None) -> dict[str, Any]:
    return {
        "channel": reach.channel,
        "available": reach.available,
        "open_now": reach.open_now,
        "hours_configured": reach.hours_configured,
        "opens_at": _iso(reach.opens_at, zone),
        "closes_at": _iso(reach.closes_at, zone),
        "hours": [{"weekday": weekday, "opens": opens, "closes": closes} for weekday, opens, closes in reach.hours],
        "expected_reply_seconds": reach.expected_reply_seconds,
        "expected_reply_text": reach.expected_reply_text,
        "contact": reach.contact,
    }


def as_json(found: Reachability) -> dict[str, Any]:
    zone = found.now.tzinfo
    return {
        "shop": {"name": found.shop_name, "time_zone": found.time_zone},
        "now": _iso(found.now, zone),
        "channels": [_channel_json(reach, zone) for reach in found.channels],
        "callback": {
            "available": found.callback.available,
            "promise_minutes": found.callback.promise_minutes,
            "next_due_at": _iso(found.callback.next_due_at, zone),
        },
        "leave_message": found.leave_message,
        "invitations": found.invitations,
    }
