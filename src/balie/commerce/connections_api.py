"""/api/v1/commerce/connections: an admin links the shop to Shopify, WooCommerce or a
tracking service. The secret is shown once, in the answer to PUT."""

from __future__ import annotations

from fastapi import APIRouter, Response

from balie.agents.service import Actor
from balie.commerce import connections
from balie.commerce.models import PLATFORMS, Connection
from balie.commerce.schemas import ConnectionIn, ConnectionList, ConnectionOut
from balie.errors import Forbidden, NotFound
from balie.shops.models import Shop
from balie.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1/commerce", tags=["commerce"])


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only a shop admin can connect the shop to a platform", code="admin_only")


def _platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise NotFound(f"no platform {platform[:40]!r}: one of {', '.join(PLATFORMS)}")
    return platform


def _out(shop: Shop, connection: Connection, *, with_secret: bool = False) -> ConnectionOut:
    return ConnectionOut(platform=connection.platform, webhook_url=f"/webhooks/{connection.platform}/{shop.public_key}",
                         api_url=connection.api_url, secret=connection.secret if with_secret else None,
                         updated_at=connection.updated_at)


@router.get("/connections", response_model=ConnectionList)
def list_connections(db: DB, actor: ApiActor) -> ConnectionList:
    _admin(actor)
    shop = db.get_one(Shop, actor.shop_id)
    found = [connections.get(db, actor.shop_id, platform) for platform in PLATFORMS]
    return ConnectionList(items=[_out(shop, connection) for connection in found if connection is not None])


@router.put("/connections/{platform}", response_model=ConnectionOut)
def put_connection(platform: str, body: ConnectionIn, db: DB, actor: ApiActor) -> ConnectionOut:
    _admin(actor)
    connection = connections.save(db, actor.shop_id, _platform(platform), secret=body.secret, api_url=body.api_url,
                                  api_key=body.api_key, api_secret=body.api_secret, actor_agent_id=actor.agent_id)
    db.commit()
    return _out(db.get_one(Shop, actor.shop_id), connection, with_secret=True)


@router.delete("/connections/{platform}", status_code=204)
def delete_connection(platform: str, db: DB, actor: ApiActor) -> Response:
    _admin(actor)
    if not connections.remove(db, actor.shop_id, _platform(platform), actor_agent_id=actor.agent_id):
        raise NotFound(f"the shop is not connected to {platform}")
    db.commit()
    return Response(status_code=204)
