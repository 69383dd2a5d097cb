"""The automation rules see broken delivery promises: a `promise_broken` rule runs once per
breach, on the conversation the customer was told in, after the notice."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from promise_support import breaches, enable, local, order, post_order, run_worker
from smtp_sink import add_mailbox
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from factories import Tenant

RULE = {"name": "Vertraagd: spoed en label", "trigger": "promise_broken",
        "actions": [{"action": "add_tag", "value": "vertraagd"}, {"action": "set_priority", "value": "high"}]}


def test_a_promise_broken_rule_runs_once_on_the_conversation_the_customer_was_told_in(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(23, 21, 40)
    add_mailbox(factory, tenant)
    enable(client, tenant)
    assert client.post("/api/v1/rules", json=RULE, headers=tenant.headers).status_code == 201
    placed = post_order(client, tenant, order())

    frozen_clock.current = local(23, 22, 1)  # no carrier scan by the 22:00 cut-off
    run_worker(app)
    run_worker(app)  # a second pass finds nothing new and runs no rule again

    [breach] = breaches(client, tenant, placed["id"])
    conversation_id = breach["conversation_id"]
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    runs = client.get(f"/api/v1/conversations/{conversation_id}/rule-runs", headers=tenant.headers).json()["items"]
    assert "vertraagd" in detail["tags"] and detail["priority"] == "high"
    assert [(run["trigger"], run["outcome"]) for run in runs] == [("promise_broken", "fired")]


def test_without_a_promise_broken_rule_nothing_is_queued(
    app: Any, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    frozen_clock.current = local(23, 21, 40)
    add_mailbox(factory, tenant)
    enable(client, tenant)
    placed = post_order(client, tenant, order())
    frozen_clock.current = local(23, 22, 1)
    run_worker(app)

    [breach] = breaches(client, tenant, placed["id"])
    runs = client.get(f"/api/v1/conversations/{breach['conversation_id']}/rule-runs",
                      headers=tenant.headers).json()["items"]
    assert runs == []
