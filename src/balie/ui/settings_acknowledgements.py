"""The acknowledgements settings page (shop admins only): per channel, whether Balie answers a
customer's message at once with when they will hear from the shop (sla/acknowledging.py).

A plain form per channel with the CSRF token, as on the other settings pages.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from balie import clock
from balie.errors import Invalid
from balie.shops import service as shop_service
from balie.sla import acknowledge, acknowledgement_settings
from balie.ui import pages
from balie.ui.auth import Agent, CheckedAgent, Signed, require_admin
from balie.ui.inbox import chrome
from balie.ui.listing import CHANNEL_LABELS, ListQuery
from balie.ui.routing import N_, UiRoute
from balie.ui.settings_widget import Posted
from balie.web.deps import DB

router = APIRouter(route_class=UiRoute, include_in_schema=False)
BASE = "/settings/acknowledgements"
NOTICES = {"on": N_("Acknowledgements turned on."), "off": N_("Acknowledgements turned off.")}
HOW = {
    "email": N_("A reply in the customer's e-mail thread, from the address they wrote to."),
    "chat": N_("A message in the chat widget."),
    "api": N_("A reply to the shop's webhook, like an agent's reply on the API channel."),
}



def _page(request: Request, db: DB, signed: Signed, *, error: str = "", status: int = 200) -> Response:
    shop = shop_service.get(db, signed.actor.shop_id)
    now = clock.now()
    zone = ZoneInfo(shop.time_zone)
    example_due = now + dt.timedelta(days=1)
    examples = {language: [acknowledge.acknowledgement(example_due, now, zone, language),
                           acknowledge.acknowledgement(None, now, zone, language)]
                for language in acknowledge.LANGUAGES}
    values = {
        **chrome(db, signed), "query": ListQuery(), "settings_page": "acknowledgements",
        "notice": NOTICES.get(request.query_params.get("notice") or ""),
        "channels": acknowledgement_settings.for_shop(db, signed.actor.shop_id),
        "channel_labels": CHANNEL_LABELS, "how": HOW, "examples": examples,
        "quiet_hours": acknowledge.QUIET_HOURS, "error": error,
    }
    return pages.render(request, "settings_acknowledgements.html", values, status=status)


@router.get(BASE)
def acknowledgements_page(request: Request, db: DB, signed: Agent) -> Response:
    require_admin(signed)
    return _page(request, db, signed)


@router.post(BASE)
def switch(request: Request, db: DB, signed: CheckedAgent, posted: Posted) -> Response:
    require_admin(signed)
    on = posted.get("enabled") == "on"
    try:
        acknowledgement_settings.set_enabled(db, shop_id=signed.actor.shop_id, channel=posted.get("channel", ""),
                                             on=on, actor_agent_id=signed.actor.agent_id)
    except Invalid:
        db.rollback()
        return _page(request, db, signed, error=pages.language(request).gettext("Choose one of the channels."),
                     status=400)
    db.commit()
    return pages.redirect(f"{BASE}?notice={'on' if on else 'off'}")
