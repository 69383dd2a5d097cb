"""/api/v1/rules: CRUD, order, admin-only writes, the field named in every refusal (malformed,
oversized, hostile, duplicate), and every shop seeing only its own rules and runs."""

from __future__ import annotations

from typing import Any

import pytest
from automation_support import KAPOT, make_rule, runs, work
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.shops.models import Shop
from factories import Tenant, post_message


def test_create_read_update_delete(client: TestClient, tenant: Tenant) -> None:
    created = make_rule(client, tenant)
    assert created["position"] == 1 and created["enabled"] is True and created["hours"] is None
    assert created["actions"] == KAPOT["actions"]
    assert client.get(f"/api/v1/rules/{created['id']}", headers=tenant.headers).json() == created
    patched = client.patch(f"/api/v1/rules/{created['id']}", json={"enabled": False, "name": "Uit"},
                           headers=tenant.headers)
    assert patched.status_code == 200 and patched.json()["enabled"] is False and patched.json()["name"] == "Uit"
    assert patched.json()["conditions"] == created["conditions"]
    pending = client.patch(f"/api/v1/rules/{created['id']}", json={"trigger": "pending_for", "hours": 48},
                           headers=tenant.headers)
    assert pending.status_code == 200 and pending.json()["hours"] == 48
    back = client.patch(f"/api/v1/rules/{created['id']}", json={"trigger": "message_received"},
                        headers=tenant.headers)
    assert back.status_code == 200 and back.json()["hours"] is None
    assert client.delete(f"/api/v1/rules/{created['id']}", headers=tenant.headers).status_code == 204
    assert client.get(f"/api/v1/rules/{created['id']}", headers=tenant.headers).status_code == 404
    assert client.get("/api/v1/rules", headers=tenant.headers).json() == {"items": []}


def test_runs_stay_on_the_conversation_when_the_rule_is_deleted(client: TestClient, factory: sessionmaker[Session],
                                                                tenant: Tenant) -> None:
    rule = make_rule(client, tenant)
    posted = post_message(client, tenant, text="kapot")
    work(factory)
    client.delete(f"/api/v1/rules/{rule['id']}", headers=tenant.headers)
    (run,) = runs(client, tenant, posted["conversation_id"])
    assert run["rule_id"] is None and run["rule_name"] == KAPOT["name"] and run["outcome"] == "fired"


HOSTILE = "<script>alert(1)</script>"


@pytest.mark.parametrize(("change", "code", "named"), [
    ({"name": ""}, "invalid_name", "name"),
    ({"name": "x" * 201}, "invalid_name", "name"),
    ({"name": "a\x00b"}, "invalid_text", "name"),
    ({"trigger": "order_paid"}, "invalid_trigger", "trigger"),
    ({"trigger": HOSTILE}, "invalid_trigger", "trigger"),
    ({"hours": 5}, "invalid_hours", "hours"),
    ({"trigger": "pending_for"}, "invalid_hours", "hours"),
    ({"trigger": "pending_for", "hours": 10**9}, "invalid_hours", "hours"),
    ({"conditions": [{"field": "mood", "op": "is", "value": True}]}, "invalid_conditions", "condition 1"),
    ({"conditions": [{"field": "text", "op": "matches", "value": "(a"}]}, "invalid_conditions", "condition 1"),
    ({"conditions": [{"field": "text", "op": "contains", "value": "x" * 5000}]}, "invalid_conditions", "condition 1"),
    ({"conditions": [{"field": "channel", "op": "in", "value": ["email"]}] * 21}, "invalid_conditions", "conditions"),
    ({"actions": []}, "invalid_actions", "actions"),
    ({"actions": [{"action": "block_customer"}]}, "invalid_actions", "action 1"),
    ({"actions": [{"action": "set_priority", "value": "asap"}]}, "invalid_actions", "action 1 (set_priority)"),
    ({"actions": [{"action": "add_tag", "value": "ok"}, {"action": "assign_agent", "value": 999999}]},
     "invalid_actions", "action 2 (assign_agent)"),
    ({"actions": [{"action": "assign_agent", "value": True}]}, "invalid_actions", "action 1 (assign_agent)"),
    ({"actions": [{"action": "send_canned", "value": 2**70}]}, "invalid_actions", "action 1 (send_canned)"),
    ({"actions": [{"action": "webhook", "value": "http://example.com/hook"}]}, "invalid_actions", "action 1"),
    ({"actions": [{"action": "webhook", "value": "https://user:pw@example.com/"}]}, "invalid_actions", "action 1"),
    ({"actions": [{"action": "add_note", "value": "x" * 2001}]}, "invalid_actions", "action 1"),
    ({"actions": [{"action": "follow_up", "value": 24}]}, "invalid_actions", "action 1 (follow_up)"),
    ({"actions": [{"action": "add_tag", "value": "a", "extra": 1}]}, "invalid_actions", "action 1"),
    ({"actions": [{"action": "add_tag", "value": "ok"}] * 11}, "invalid_actions", "actions"),
])
def test_a_bad_rule_is_refused_with_the_field_named(client: TestClient, tenant: Tenant, change: dict[str, Any],
                                                    code: str, named: str) -> None:
    response = client.post("/api/v1/rules", json={**KAPOT, **change}, headers=tenant.headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == code and body["detail"].startswith(named), body
    assert len(body["detail"]) < 400  # what was sent is echoed cut short, never whole
    assert client.get("/api/v1/rules", headers=tenant.headers).json() == {"items": []}


@pytest.mark.parametrize("body", [
    {"name": "x"}, {**KAPOT, "conditions": {"field": "text"}}, {**KAPOT, "hours": "veel"},
    {**KAPOT, "unknown": 1}, [KAPOT],
])
def test_a_malformed_body_is_422(client: TestClient, tenant: Tenant, body: Any) -> None:
    assert client.post("/api/v1/rules", json=body, headers=tenant.headers).status_code == 422


def test_order_lists_every_rule_once(client: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    first, second = make_rule(client, tenant, name="Een"), make_rule(client, tenant, name="Twee")
    foreign = make_rule(client, other_tenant)
    for ids in ([first["id"]], [first["id"], first["id"]], [first["id"], second["id"], foreign["id"]],
                [second["id"], foreign["id"]]):
        response = client.post("/api/v1/rules/order", json={"rule_ids": ids}, headers=tenant.headers)
        assert response.status_code == 400 and response.json()["error"] == "invalid_order", ids
    done = client.post("/api/v1/rules/order", json={"rule_ids": [second["id"], first["id"]]}, headers=tenant.headers)
    assert [(item["name"], item["position"]) for item in done.json()["items"]] == [("Twee", 1), ("Een", 2)]


def test_only_admins_change_rules(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    rule = make_rule(client, tenant)
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="mees@example.test", name="Mees")
        shop = session.get_one(Shop, tenant.shop_id)
        agent_service.add_to_shop(session, agent=agent, shop=shop, role="agent")
        headers = {"Authorization": f"Bearer {agent_service.create_token(session, agent=agent, shop=shop)}"}
    assert client.get("/api/v1/rules", headers=headers).status_code == 200
    assert client.post("/api/v1/rules", json=KAPOT, headers=headers).status_code == 403
    assert client.patch(f"/api/v1/rules/{rule['id']}", json={"enabled": False}, headers=headers).status_code == 403
    assert client.delete(f"/api/v1/rules/{rule['id']}", headers=headers).status_code == 403
    assert client.post("/api/v1/rules/order", json={"rule_ids": [rule["id"]]}, headers=headers).status_code == 403
    assert client.get("/api/v1/rules").status_code == 401


def test_each_shop_sees_only_its_own(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                     other_tenant: Tenant) -> None:
    mine = make_rule(client, tenant)
    theirs = make_rule(client, other_tenant, name="Van hen")
    posted = post_message(client, other_tenant, text="kapot")
    work(factory)
    assert [item["id"] for item in client.get("/api/v1/rules", headers=tenant.headers).json()["items"]] == [mine["id"]]
    for method, path in (("GET", f"/api/v1/rules/{theirs['id']}"), ("PATCH", f"/api/v1/rules/{theirs['id']}"),
                         ("DELETE", f"/api/v1/rules/{theirs['id']}"),
                         ("GET", f"/api/v1/conversations/{posted['conversation_id']}/rule-runs")):
        response = client.request(method, path, json={"enabled": False} if method == "PATCH" else None,
                                  headers=tenant.headers)
        assert response.status_code == 404, (method, path)
    # Only the other shop's rule ran on the other shop's message.
    assert [run["rule_name"] for run in runs(client, other_tenant, posted["conversation_id"])] == ["Van hen"]
    # A rule pointing at another shop's agent is refused.
    refused = client.post("/api/v1/rules", json={**KAPOT, "actions": [
        {"action": "assign_agent", "value": other_tenant.agent_id}]}, headers=tenant.headers)
    assert refused.status_code == 400 and "does not work in this shop" in refused.json()["detail"]
