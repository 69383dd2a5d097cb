"""Creating and finding shops."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from balie import netguard
from balie.errors import Invalid, NotFound
from balie.shops.models import Shop


def create(session: Session, *, name: str, webhook_url: str | None = None) -> Shop:
    name = name.strip()
    if not name:
        raise Invalid("a shop needs a name")
    shop = Shop(
        name=name[:200],
        public_key="pk_" + secrets.token_urlsafe(18),
        webhook_secret="whsec_" + secrets.token_urlsafe(24),
        webhook_url=webhook_url,
    )
    session.add(shop)
    session.flush()
    return shop


def get(session: Session, shop_id: int) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(f"shop {shop_id} not found")
    return shop


def find(session: Session, ref: str) -> Shop:
    """A shop by id, public key or exact name (what the CLI accepts as SHOP)."""
    if ref.isdigit():
        shop = session.get(Shop, int(ref))
    else:
        shop = session.scalars(
            select(Shop).where((Shop.public_key == ref) | (Shop.name == ref)).order_by(Shop.id)
        ).first()
    if shop is None:
        raise NotFound(f"no shop {ref!r}")
    return shop


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Shop)) or 0


def validate_webhook_url(url: str, *, allow_private: bool = False) -> str:
    parsed = urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise Invalid("webhook_url must be an http or https URL", code="invalid_webhook_url")
    problem = None if allow_private else netguard.private_target(url.strip())
    if problem:
        raise Invalid(f"webhook_url is not allowed: {problem}", code="invalid_webhook_url")
    return url.strip()
