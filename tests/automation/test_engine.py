"""The engine: rules after commit in order, each once per event, a failing rule rolled back
alone and logged, loops stopped with the reason logged, and rules whose agent, team, canned
reply or tag has gone since logging why instead of stopping the worker."""

from __future__ import annotations

from typing import Any

import pytest
from automation_support import conversation, make_rule, runs, work
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.agents.models import Membership, Team
from balie.automation import actions, engine
from balie.canned import service as canned_service
from balie.shops.models import Shop
from factories import Tenant, post_message


def test_rules_run_in_their_order(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                  frozen_clock: clock.FrozenClock) -> None:
    first = make_rule(client, tenant, name="Hoog", actions=[{"action": "set_priority", "value": "high"}])
    make_rule(client, tenant, name="Dringend", actions=[{"action": "set_priority", "value": "urgent"}])
    posted = post_message(client, tenant, text="Alles is kapot")
    work(factory)
    assert conversation(client, tenant, posted["conversation_id"])["priority"] == "urgent"
    assert [run["rule_name"] for run in runs(client, tenant, posted["conversation_id"])] == ["Hoog", "Dringend"]

    rules = client.get("/api/v1/rules", headers=tenant.headers).json()["items"]
    order = client.post("/api/v1/rules/order", json={"rule_ids": [rules[1]["id"], first["id"]]},
                        headers=tenant.headers)
    assert order.status_code == 200 and [item["name"] for item in order.json()["items"]] == ["Dringend", "Hoog"]
    again = post_message(client, tenant, text="Nog steeds kapot", customer={"email": "b@example.nl"})
    work(factory)
    assert conversation(client, tenant, again["conversation_id"])["priority"] == "high"


def test_each_rule_runs_once_per_event(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    make_rule(client, tenant, actions=[{"action": "add_note", "value": "Controleer de garantie"}])
    posted = post_message(client, tenant, text="kapot")
    work(factory)
    conversation_id = int(posted["conversation_id"])
    with factory() as session, session.begin():  # the same event again (a retried job, a second worker)
        assert engine.run(session, "message_received", shop_id=tenant.shop_id, conversation_id=conversation_id,
                          message_id=int(posted["message_id"])) == []
    notes = [m for m in conversation(client, tenant, conversation_id)["messages"] if m["direction"] == "note"]
    assert len(notes) == 1 and notes[0]["text"].startswith("Controleer de garantie")
    assert len(runs(client, tenant, conversation_id)) == 1


def test_a_failing_rule_is_rolled_back_alone_and_reported(client: TestClient, factory: sessionmaker[Session],
                                                          tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(context: actions.Context, item: dict[str, Any]) -> str:
        raise RuntimeError("the tag service fell over")

    monkeypatch.setitem(actions.ACTIONS, "notify", actions.Action(actions.ACTIONS["notify"].check, broken))
    make_rule(client, tenant, name="Kapot", actions=[{"action": "set_priority", "value": "urgent"},
                                                     {"action": "notify", "value": "Kijk even"}])
    make_rule(client, tenant, name="Tag", actions=[{"action": "add_tag", "value": "defect"}])
    posted = post_message(client, tenant, text="kapot")
    outcomes = work(factory)
    assert {outcome.state for outcome in outcomes} == {"done"}  # the worker carried on
    shown = conversation(client, tenant, posted["conversation_id"])
    assert shown["priority"] == "normal" and shown["tags"] == ["defect"]  # the first rule's change was undone
    failed, fired = runs(client, tenant, posted["conversation_id"])
    assert failed["outcome"] == "failed" and "the tag service fell over" in failed["reason"]
    assert fired["outcome"] == "fired" and fired["results"][0]["detail"] == "tagged defect"


def test_a_loop_between_rules_is_stopped_and_logged(client: TestClient, factory: sessionmaker[Session],
                                                    tenant: Tenant) -> None:
    make_rule(client, tenant, name="Zet x", trigger="conversation_updated",
              conditions=[{"field": "tags", "op": "none", "value": ["x"]}],
              actions=[{"action": "add_tag", "value": "x"}])
    make_rule(client, tenant, name="Haal x weg", trigger="conversation_updated",
              conditions=[{"field": "tags", "op": "any", "value": ["x"]}],
              actions=[{"action": "remove_tag", "value": "x"}])
    posted = post_message(client, tenant, text="Hallo")
    work(factory)
    conversation_id = posted["conversation_id"]
    patched = client.patch(f"/api/v1/conversations/{conversation_id}", json={"priority": "high"},
                           headers=tenant.headers)
    assert patched.status_code == 200, patched.text
    outcomes = work(factory)
    assert outcomes and {outcome.state for outcome in outcomes} == {"done"}
    logged = runs(client, tenant, conversation_id)
    fired = [run["rule_name"] for run in logged if run["outcome"] == "fired"]
    assert fired == ["Zet x", "Haal x weg"]
    stopped = [run for run in logged if run["reason"].startswith("loop stopped")]
    assert stopped and all(run["outcome"] == "skipped" for run in stopped)
    assert conversation(client, tenant, conversation_id)["tags"] == []


def test_what_a_rule_points_at_may_be_gone(client: TestClient, factory: sessionmaker[Session],
                                           tenant: Tenant) -> None:
    with factory() as session, session.begin():
        reply = canned_service.create(session, shop_id=tenant.shop_id, title="Sorry", shortcut="sorry",
                                      body="Wat vervelend!")
        colleague = agent_service.create(session, email="vertrokken@example.test", name="Vera")
        agent_service.add_to_shop(session, agent=colleague, shop=session.get_one(Shop, tenant.shop_id))
        team = agent_service.create_team(session, shop_id=tenant.shop_id, name="Retouren", agent_ids=[])
    rule = make_rule(client, tenant, actions=[
        {"action": "assign_agent", "value": colleague.id}, {"action": "assign_team", "value": team.id},
        {"action": "send_canned", "value": reply.id}, {"action": "remove_tag", "value": "vip"},
        {"action": "set_priority", "value": "urgent"}])
    with factory() as session, session.begin():  # the colleague leaves; the team and the reply are deleted
        session.execute(delete(Membership).where(Membership.agent_id == colleague.id))
        session.execute(delete(Team).where(Team.id == team.id))
        session.delete(canned_service.get(session, shop_id=tenant.shop_id, reply_id=reply.id))
    posted = post_message(client, tenant, text="kapot")
    assert {outcome.state for outcome in work(factory)} == {"done"}
    (run,) = runs(client, tenant, posted["conversation_id"])
    assert run["rule_id"] == rule["id"] and run["outcome"] == "fired"
    assert [(item["ok"], item["detail"]) for item in run["results"]] == [
        (False, f"agent {colleague.id} no longer works in this shop"),
        (False, f"team {team.id} no longer exists"),
        (False, f"canned reply {reply.id} was deleted"),
        (False, "the conversation has no tag vip"),
        (True, "priority urgent"),
    ]
    shown = conversation(client, tenant, posted["conversation_id"])
    assert shown["assignee"] is None and shown["priority"] == "urgent"
    assert [m for m in shown["messages"] if m["direction"] == "out"] == []
