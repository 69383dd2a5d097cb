"""Due soon and breached: the worker's jobs fire once at their moment, tell the inbox, write the
audit log and run the shop's rules; a job whose moment the conversation no longer has does
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sla_support import customer_writes, local, own_targets, reply, run_due, sla
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.audit.models import AuditEvent
from balie.automation import engine
from balie.events import Event
from balie.scheduling import service as scheduling_service
from balie.sla.targets import TargetRow
from factories import Tenant


@pytest.fixture
def events(app: FastAPI) -> list[Event]:
    seen: list[Event] = []
    app.state.context.bus.add_listener(seen.append)
    return seen


@pytest.fixture
def rules(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What the rules engine was asked to run (its rules are tested with it)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(engine, "run", lambda session, trigger, **kwargs: calls.append((trigger, kwargs)))
    return calls


def _audit(factory: sessionmaker[Session], tenant: Tenant) -> list[tuple[str, int, dict[str, Any]]]:
    with factory() as session:
        rows = session.scalars(select(AuditEvent).where(
            AuditEvent.shop_id == tenant.shop_id, AuditEvent.action.like("sla.%"),
            AuditEvent.object_type == "conversation").order_by(AuditEvent.id)).all()
        return [(row.action, row.object_id, row.data) for row in rows]


def _sla_updates(events: list[Event], conversation_id: int) -> int:
    return sum(1 for item in events if item.type == "conversation.updated"
               and item.data == {"conversation_id": conversation_id, "changed": ["sla"]})


def test_due_soon_then_breached_fire_once_each_at_their_moment(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock,
    events: list[Event], rules: list[tuple[str, dict[str, Any]]]
) -> None:
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 60, business=False))
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    conversation_id = customer_writes(factory, tenant)
    rules.clear()
    events.clear()

    frozen_clock.current = local(2026, 11, 30, 10, 47)  # 80 % of an hour is 10:48
    assert run_due(factory) == []
    frozen_clock.current = local(2026, 11, 30, 10, 48)
    assert [(outcome.kind, outcome.state) for outcome in run_due(factory)] == [("sla.due_soon", "done")]
    assert rules == [("sla_near_breach", {"shop_id": tenant.shop_id, "conversation_id": conversation_id})]
    assert _sla_updates(events, conversation_id) == 1
    assert sla(client, tenant, conversation_id)["state"] == "due_soon"

    frozen_clock.current = local(2026, 11, 30, 11, 0)
    assert [(outcome.kind, outcome.state) for outcome in run_due(factory)] == [("sla.breached", "done")]
    assert run_due(factory) == []  # once
    frozen_clock.current = local(2026, 11, 30, 12, 0)
    assert run_due(factory) == []
    assert [trigger for trigger, _ in rules] == ["sla_near_breach", "sla_breached"]
    assert _sla_updates(events, conversation_id) == 2
    assert _audit(factory, tenant) == [
        ("sla.due_soon", conversation_id, {"kinds": ["first_response"], "due_at": "2026-11-30T09:48:00+00:00"}),
        ("sla.breached", conversation_id, {"kinds": ["first_response"], "due_at": "2026-11-30T10:00:00+00:00"}),
    ]
    assert sla(client, tenant, conversation_id)["state"] == "breached"


def test_after_a_reply_nothing_fires(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock,
    rules: list[tuple[str, dict[str, Any]]]
) -> None:
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 60, business=False))
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    conversation_id = customer_writes(factory, tenant)
    rules.clear()
    reply(client, tenant, conversation_id)
    frozen_clock.current = local(2026, 11, 30, 12, 0)
    assert run_due(factory) == []  # both jobs were cancelled with the reply
    assert rules == [] and _audit(factory, tenant) == []


def test_a_stale_job_that_still_runs_does_nothing(
    client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock,
    events: list[Event], rules: list[tuple[str, dict[str, Any]]]
) -> None:
    own_targets(factory, tenant, TargetRow("email", "normal", "first_response", 60, business=False))
    frozen_clock.current = local(2026, 11, 30, 10, 0)
    conversation_id = customer_writes(factory, tenant)
    rules.clear()
    events.clear()
    with factory() as session, session.begin():  # a job for a moment the conversation no longer has
        scheduling_service.schedule(session, shop_id=tenant.shop_id, kind="sla.breached", ref_id=conversation_id,
                                    due_at=local(2026, 11, 30, 10, 30))
        scheduling_service.schedule(session, shop_id=tenant.shop_id, kind="sla.due_soon", ref_id=987654,
                                    due_at=local(2026, 11, 30, 10, 30))  # a conversation that is gone
    frozen_clock.current = local(2026, 11, 30, 10, 30)
    assert sorted(outcome.state for outcome in run_due(factory)) == ["done", "done"]
    assert rules == [] and _audit(factory, tenant) == [] and _sla_updates(events, conversation_id) == 0
