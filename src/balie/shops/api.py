"""/api/v1/shop: the token's own shop and its settings (webhook URL, reopen window, language)."""

from __future__ import annotations

from fastapi import APIRouter

from balie.agents.service import Actor
from balie.audit import service as audit_service
from balie.errors import Forbidden
from balie.shops import service
from balie.shops.models import Shop
from balie.shops.schemas import ShopOut, ShopPatch
from balie.web.deps import DB, ApiActor, Ctx

router = APIRouter(prefix="/api/v1", tags=["shop"])


def shop_out(shop: Shop, actor: Actor) -> ShopOut:
    return ShopOut(
        id=shop.id, name=shop.name, public_key=shop.public_key, language=shop.language,
        webhook_url=shop.webhook_url, webhook_secret=shop.webhook_secret if actor.is_admin else None,
        reopen_window_days=shop.reopen_window_days,
    )


@router.get("/shop", response_model=ShopOut)
def get_shop(db: DB, actor: ApiActor) -> ShopOut:
    return shop_out(service.get(db, actor.shop_id), actor)


@router.patch("/shop", response_model=ShopOut)
def patch_shop(body: ShopPatch, db: DB, actor: ApiActor, context: Ctx) -> ShopOut:
    """Admins only. `"webhook_url": null` switches webhook delivery off."""
    if not actor.is_admin:
        raise Forbidden("only a shop admin can change its settings")
    shop = service.get(db, actor.shop_id)
    given = body.model_fields_set
    before = {key: getattr(shop, key) for key in given}
    if body.name is not None:
        shop.name = body.name.strip()
    if body.language is not None:
        shop.language = body.language
    if "webhook_url" in given:
        shop.webhook_url = (
            service.validate_webhook_url(body.webhook_url, allow_private=context.settings.webhook_allow_private)
            if body.webhook_url else None
        )
    if "reopen_window_days" in given:
        shop.reopen_window_days = body.reopen_window_days
    changed = {key: [before[key], getattr(shop, key)] for key in given if before[key] != getattr(shop, key)}
    if changed:
        audit_service.record(db, shop_id=shop.id, actor_agent_id=actor.agent_id, action="shop.updated",
                             object_type="shop", object_id=shop.id, data=changed)
    db.commit()
    return shop_out(shop, actor)
