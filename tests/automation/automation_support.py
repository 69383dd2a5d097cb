"""Helpers shared by the automation tests: rules through the API, the worker run inline."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie import worker
from balie.scheduling import runner
from factories import Tenant

KAPOT = {"name": "Kapot is dringend", "trigger": "message_received",
         "conditions": [{"field": "text", "op": "contains", "value": "kapot"}],
         "actions": [{"action": "set_priority", "value": "urgent"}, {"action": "add_tag", "value": "defect"}]}


def make_rule(client: TestClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/rules", json={**KAPOT, **body}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def work(factory: sessionmaker[Session]) -> list[runner.Outcome]:
    """Runs every due job, as the worker would, until none is left (chained events included)."""
    outcomes: list[runner.Outcome] = []
    while batch := runner.run_due(factory, worker.HANDLERS):
        outcomes += batch
    return outcomes


def conversation(client: TestClient, tenant: Tenant, conversation_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def runs(client: TestClient, tenant: Tenant, conversation_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/conversations/{conversation_id}/rule-runs", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]
