"""Helpers shared by the SLA timer tests: a shop with e-mail hours, a customer who writes, the
worker's passes, and the conversation as the API shows it."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.conversations import jobs as conversation_jobs
from balie.conversations.ingest import InboundMessage, ingest
from balie.customers.service import normalise
from balie.hours import service as hours_service
from balie.hours.schedule import Interval
from balie.scheduling import runner
from balie.scheduling.runner import Outcome
from balie.sla import targets
from balie.sla.targets import TargetRow
from balie.worker import HANDLERS
from factories import Tenant

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock moment in Amsterdam, as UTC."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM).astimezone(dt.UTC)


def office_hours(factory: sessionmaker[Session], tenant: Tenant, channel: str = "email") -> None:
    """09:00–17:00, Monday to Friday."""
    with factory() as session, session.begin():
        hours_service.replace(session, tenant.shop_id, channel, [Interval(day, 9 * 60, 17 * 60) for day in range(5)])


def own_targets(factory: sessionmaker[Session], tenant: Tenant, *rows: TargetRow, near: float = 0.8) -> None:
    with factory() as session, session.begin():
        targets.save(session, tenant.shop_id, actor_agent_id=tenant.agent_id, targets=rows, near=near)


def customer_writes(factory: sessionmaker[Session], tenant: Tenant, text: str = "Waar blijft mijn pakket?", *,
                    channel: str = "email", email: str = "klant@example.nl") -> int:
    """The message arrives now, and the worker runs what follows it; the conversation's id."""
    with factory() as session, session.begin():
        result = ingest(session, InboundMessage(
            shop_id=tenant.shop_id, channel=channel, identities=[normalise("email", email)], text=text,
            subject="Pakket", external_id=f"<{clock.now().timestamp()}-{email}>"))
    run_due(factory)
    return result.conversation_id


def run_due(factory: sessionmaker[Session]) -> list[Outcome]:
    return runner.run_due(factory, HANDLERS)


def wake(factory: sessionmaker[Session]) -> int:
    return conversation_jobs.wake_snoozed(factory)


def sla(client: TestClient, tenant: Tenant, conversation_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["sla"]  # type: ignore[no-any-return]


def patch(client: TestClient, tenant: Tenant, conversation_id: int, **body: object) -> dict[str, Any]:
    response = client.patch(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers, json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def reply(client: TestClient, tenant: Tenant, conversation_id: int, status: str = "pending") -> None:
    response = client.post(f"/api/v1/conversations/{conversation_id}/replies", headers=tenant.headers,
                           json={"text": "We zoeken het uit.", "status": status})
    assert response.status_code == 202, response.text


def moment(value: str | None) -> dt.datetime | None:
    """An API moment, to compare with one the test computed."""
    return dt.datetime.fromisoformat(value) if value is not None else None
