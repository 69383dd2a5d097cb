"""The agent UI (placeholder until the UI lands)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mounts the agent UI routes on the app."""
