"""Where each trigger comes from: a conversation's first message, an agent's change (run after
it commits), a conversation left pending for N hours, and a call-back past its due time."""

from __future__ import annotations

from automation_support import conversation, make_rule, runs, work
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.automation.models import RuleRun
from balie.scheduling.models import DueJob
from factories import Tenant, post_message

TAG = [{"action": "add_tag", "value": "gezien"}]


def test_conversation_created_fires_on_the_first_message_only(client: TestClient, factory: sessionmaker[Session],
                                                              tenant: Tenant) -> None:
    make_rule(client, tenant, name="Nieuw", trigger="conversation_created", conditions=[], actions=TAG)
    first = post_message(client, tenant, text="Eerste vraag")
    work(factory)
    second = post_message(client, tenant, text="Nog een vraag")
    assert second["conversation_id"] == first["conversation_id"]
    work(factory)
    assert [run["trigger"] for run in runs(client, tenant, first["conversation_id"])] == ["conversation_created"]


def test_an_agents_change_raises_conversation_updated_after_commit(client: TestClient,
                                                                    factory: sessionmaker[Session],
                                                                    tenant: Tenant) -> None:
    make_rule(client, tenant, name="Dringend naar mij", trigger="conversation_updated",
              conditions=[{"field": "priority", "op": "in", "value": ["urgent"]}],
              actions=[{"action": "assign_agent", "value": tenant.agent_id}])
    posted = post_message(client, tenant, text="Hallo")
    work(factory)
    conversation_id = posted["conversation_id"]
    client.patch(f"/api/v1/conversations/{conversation_id}", json={"priority": "urgent"}, headers=tenant.headers)
    with factory() as session:  # queued with the change, run by the worker
        assert session.scalars(select(DueJob.state).where(DueJob.kind == "automation.event")).all() == ["pending"]
    assert conversation(client, tenant, conversation_id)["assignee"] is None
    work(factory)
    assert conversation(client, tenant, conversation_id)["assignee"]["id"] == tenant.agent_id


def test_pending_for_fires_once_after_the_hours_without_activity(client: TestClient, factory: sessionmaker[Session],
                                                                 tenant: Tenant,
                                                                 frozen_clock: clock.FrozenClock) -> None:
    make_rule(client, tenant, name="Herinnering", trigger="pending_for", hours=48, conditions=[],
              actions=[{"action": "set_status", "value": "open"}])
    make_rule(client, tenant, name="Label", trigger="pending_for", hours=48, conditions=[], actions=TAG)
    make_rule(client, tenant, name="Later", trigger="pending_for", hours=96, conditions=[], actions=TAG)
    posted = post_message(client, tenant, text="Waar blijft mijn pakket?")
    conversation_id = posted["conversation_id"]
    reply = client.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": "We zoeken het uit."},
                        headers=tenant.headers)
    assert reply.status_code == 202
    work(factory)
    frozen_clock.advance(hours=47)
    work(factory)
    assert conversation(client, tenant, conversation_id)["status"] == "pending"
    frozen_clock.advance(hours=2)
    work(factory)
    shown = conversation(client, tenant, conversation_id)
    assert shown["status"] == "open" and shown["tags"] == ["gezien"]
    assert [run["rule_name"] for run in runs(client, tenant, conversation_id)] == ["Herinnering", "Label"]


def test_pending_for_does_not_fire_when_the_customer_wrote_meanwhile(client: TestClient,
                                                                     factory: sessionmaker[Session], tenant: Tenant,
                                                                     frozen_clock: clock.FrozenClock) -> None:
    make_rule(client, tenant, name="Herinnering", trigger="pending_for", hours=2, conditions=[], actions=TAG)
    posted = post_message(client, tenant, text="Vraag")
    client.post(f"/api/v1/conversations/{posted['conversation_id']}/replies", json={"text": "Antwoord"},
                headers=tenant.headers)
    work(factory)
    frozen_clock.advance(hours=1)
    post_message(client, tenant, text="Nog een vraag")
    frozen_clock.advance(hours=2)
    work(factory)
    with factory() as session:
        assert session.scalars(select(RuleRun)).all() == []


def test_callback_overdue_fires_once_at_its_due_time(client: TestClient, factory: sessionmaker[Session],
                                                     tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    make_rule(client, tenant, name="Te laat gebeld", trigger="callback_overdue", conditions=[],
              actions=[{"action": "set_priority", "value": "urgent"}])
    created = client.post("/api/v1/callbacks", json={"phone": "0612345678", "name": "Klaas"}, headers=tenant.headers)
    assert created.status_code == 201, created.text
    callback = created.json()
    work(factory)
    conversation_id = callback["conversation_id"]
    assert conversation(client, tenant, conversation_id)["priority"] != "urgent"
    frozen_clock.advance(hours=3)
    work(factory)
    assert conversation(client, tenant, conversation_id)["priority"] == "urgent"
    work(factory)
    assert [run["trigger"] for run in runs(client, tenant, conversation_id)] == ["callback_overdue"]
