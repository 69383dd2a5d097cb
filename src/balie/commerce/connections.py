"""A shop's links to its platforms (Shopify, WooCommerce, a tracking service): the secret
their webhooks are signed with and, for a pull, where and with which key. One row per shop
and platform; changing one is audited without its secrets."""

from __future__ import annotations

import secrets as token_source
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from balie import clock
from balie.audit import service as audit_service
from balie.commerce import checks
from balie.commerce.models import PLATFORMS, Connection
from balie.errors import Invalid
from balie.shops.models import Shop

MIN_SECRET = 16


def get(session: Session, shop_id: int, platform: str) -> Connection | None:
    return session.get(Connection, (shop_id, platform))


class Signing(NamedTuple):
    shop_id: int
    secret: str


# Built once: every webhook delivery asks it, and building the statement cost more than
# running it (the tracking benchmark, docs/benchmarks.md).
_SIGNING = (select(Shop.id, Connection.secret).join(Connection, Connection.shop_id == Shop.id)
            .where(Shop.public_key == bindparam("public_key"), Connection.platform == bindparam("platform")))


def by_public_key(session: Session, public_key: str, platform: str) -> Signing | None:
    """The shop a webhook URL names and its secret for the platform; None for either unknown
    (the caller answers 401 or 404 without saying which)."""
    if not public_key or len(public_key) > 64:
        return None
    row = session.connection().execute(_SIGNING, {"public_key": public_key, "platform": platform}).first()
    return None if row is None else Signing(row.id, row.secret)


def save(session: Session, shop_id: int, platform: str, *, secret: str | None, api_url: str | None = None,
         api_key: str | None = None, api_secret: str | None = None, actor_agent_id: int | None) -> Connection:
    """Creates or replaces the connection. Without a secret Balie makes one (for the generic
    tracking webhook, whose sender takes it from Balie); Shopify and WooCommerce give their own."""
    if platform not in PLATFORMS:
        raise Invalid(f"platform: one of {', '.join(PLATFORMS)}", code="invalid_platform")
    if secret is None or secret == "":
        secret = token_source.token_urlsafe(32)
    secret = checks.line(secret, "secret", max_length=256)
    if len(secret) < MIN_SECRET:
        raise Invalid(f"secret: at least {MIN_SECRET} characters", code="invalid_field")
    values = {"secret": secret, "api_url": checks.url(api_url, "api_url"),
              "api_key": checks.line(api_key, "api_key", max_length=256, required=False) or None,
              "api_secret": checks.line(api_secret, "api_secret", max_length=256, required=False) or None}
    now = clock.now()
    connection = get(session, shop_id, platform)
    if connection is None:
        connection = Connection(shop_id=shop_id, platform=platform, created_at=now, **values)
        session.add(connection)
    else:
        if (connection.api_url, connection.api_key, connection.api_secret) != (
                values["api_url"], values["api_key"], values["api_secret"]):
            # New address or keys: the WooCommerce pull is due at once, from scratch for a new address.
            connection.pull_due_at, connection.pull_failures, connection.pull_error = None, 0, ""
            if connection.api_url != values["api_url"]:
                connection.last_pulled_at = None
        for key, value in values.items():
            setattr(connection, key, value)
    connection.updated_at = now
    audit_service.record(session, shop_id=shop_id, actor_agent_id=actor_agent_id, action="commerce.connected",
                         object_type="shop", object_id=shop_id,
                         data={"platform": platform, "api_url": values["api_url"]})
    session.flush()
    return connection


def remove(session: Session, shop_id: int, platform: str, *, actor_agent_id: int | None) -> bool:
    connection = get(session, shop_id, platform)
    if connection is None:
        return False
    session.delete(connection)
    audit_service.record(session, shop_id=shop_id, actor_agent_id=actor_agent_id, action="commerce.disconnected",
                         object_type="shop", object_id=shop_id, data={"platform": platform})
    session.flush()
    return True
