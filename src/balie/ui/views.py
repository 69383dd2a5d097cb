"""The agent UI: server-rendered pages (Jinja2, Dutch by default), a small script for live
updates and keyboard shortcuts, and the static files they need. See docs/ui.md."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from balie.ui import (
    actions,
    compose,
    inbox,
    live,
    session,
    settings,
    settings_acknowledgements,
    settings_invitations,
    settings_promises,
    settings_rules,
    settings_sla,
    settings_widget,
)
from balie.ui.pages import STATIC_DIR, STATIC_PREFIX


def install(app: FastAPI) -> None:
    """Mounts the agent UI routes on the app."""
    for module in (session, inbox, actions, compose, live, settings, settings_widget, settings_invitations,
                   settings_sla, settings_acknowledgements, settings_rules, settings_promises):
        app.include_router(module.router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="ui-static")
