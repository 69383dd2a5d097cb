"""What every ordered list of rules on a settings page does alike (the chat invitation rules,
the automation rules): switch one on or off, move it a place up or down, delete it."""

from __future__ import annotations

from typing import Protocol

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from balie.inputs import parse_id
from balie.ui import pages
from balie.ui.auth import CheckedAgent, require_admin
from balie.ui.settings_widget import Posted
from balie.web.deps import DB


class _Identified(Protocol):
    id: int


class RuleStore(Protocol):
    """The rules module of a list (balie.proactive.rules, balie.automation.rules)."""

    def get(self, session: Session, shop_id: int, rule_id: int) -> _Identified: ...
    def set_enabled(self, session: Session, shop_id: int, rule_id: int, enabled: bool) -> object: ...
    def move(self, session: Session, shop_id: int, rule_id: int, step: int) -> None: ...
    def delete(self, session: Session, shop_id: int, rule_id: int) -> None: ...


def add_routes(router: APIRouter, base: str, store: RuleStore) -> None:
    """POST {base}/{id}/enabled, /move (step=up|down) and /delete, for the shop's admins; a
    made-up id and another shop's rule are both 404."""

    def found(db: Session, signed: CheckedAgent, rule_id: str) -> int:
        require_admin(signed)
        return store.get(db, signed.actor.shop_id, parse_id(rule_id) or 0).id

    @router.post(base + "/{rule_id}/enabled")
    def switch_rule(rule_id: str, db: DB, signed: CheckedAgent, posted: Posted) -> Response:
        store.set_enabled(db, signed.actor.shop_id, found(db, signed, rule_id), posted.get("enabled") == "on")
        db.commit()
        return pages.redirect(f"{base}?notice=saved")

    @router.post(base + "/{rule_id}/move")
    def move_rule(rule_id: str, db: DB, signed: CheckedAgent, posted: Posted) -> Response:
        store.move(db, signed.actor.shop_id, found(db, signed, rule_id), -1 if posted.get("step") == "up" else 1)
        db.commit()
        return pages.redirect(f"{base}?notice=saved")

    @router.post(base + "/{rule_id}/delete")
    def delete_rule(rule_id: str, db: DB, signed: CheckedAgent) -> Response:
        store.delete(db, signed.actor.shop_id, found(db, signed, rule_id))
        db.commit()
        return pages.redirect(f"{base}?notice=removed")
