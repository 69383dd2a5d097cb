"""The automation rules settings page: admins only, CSRF, rules built from rows of field /
operator / value and action / value (agents named by e-mail address), edited, switched,
moved and deleted; errors beside the row; and the conversation shows what the rules did."""

from __future__ import annotations

from automation_support import make_rule, work
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.agents import service as agent_service
from balie.automation import rules
from balie.shops.models import Shop
from factories import Tenant, post_message
from ui_support import PASSWORD, log_in, session_token, sign_in


def rule_form(csrf: str, **fields: str) -> dict[str, str]:
    values = {"csrf_token": csrf, "name": "Kapot is dringend", "trigger": "message_received", "hours": "",
              "enabled": "on",
              "condition_0_field": "text", "condition_0_op": "contains", "condition_0_value": "kapot",
              "condition_1_field": "channel", "condition_1_op": "in", "condition_1_value": "email, api",
              "action_0_action": "set_priority", "action_0_value": "urgent",
              "action_1_action": "add_tag", "action_1_value": "defect"}
    values.update(fields)
    return values


def listed(factory: sessionmaker[Session], shop_id: int) -> list[tuple[str, bool]]:
    with factory() as session:
        return [(rule.name, rule.enabled) for rule in rules.list_rules(session, shop_id)]


def test_an_admin_builds_a_rule_without_writing_json(client: TestClient, factory: sessionmaker[Session],
                                                     tenant: Tenant, other_tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    empty = client.get("/settings/rules")
    assert empty.status_code == 200 and 'id="rules-empty"' in empty.text and 'id="nav-rules"' in empty.text

    added = client.post("/settings/rules", data=rule_form(csrf), follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/settings/rules?notice=added"
    with factory() as session:
        (rule,) = rules.list_rules(session, tenant.shop_id)
        assert rule.conditions == [{"field": "text", "op": "contains", "value": "kapot"},
                                   {"field": "channel", "op": "in", "value": ["email", "api"]}]
        assert rule.actions == [{"action": "set_priority", "value": "urgent"}, {"action": "add_tag", "value": "defect"}]

    # Assign by e-mail address: stored as the agent's id, shown again as the address.
    saved = client.post(f"/settings/rules/{rule.id}", data=rule_form(
        csrf, action_2_action="assign_agent", action_2_value=tenant.email.upper()), follow_redirects=False)
    assert saved.status_code == 303
    with factory() as session:
        assert rules.get(session, tenant.shop_id, rule.id).actions[2] == {"action": "assign_agent",
                                                                          "value": tenant.agent_id}
    edit = client.get(f"/settings/rules/{rule.id}")
    assert edit.status_code == 200 and f'value="{tenant.email}"' in edit.text and 'value="email, api"' in edit.text

    client.post("/settings/rules", data=rule_form(csrf, name="Tweede"))
    assert listed(factory, tenant.shop_id) == [("Kapot is dringend", True), ("Tweede", True)]
    with factory() as session:
        second_id = rules.list_rules(session, tenant.shop_id)[1].id
    client.post(f"/settings/rules/{second_id}/move", data={"csrf_token": csrf, "step": "up"})
    client.post(f"/settings/rules/{second_id}/enabled", data={"csrf_token": csrf})  # off
    assert listed(factory, tenant.shop_id) == [("Tweede", False), ("Kapot is dringend", True)]
    client.post(f"/settings/rules/{second_id}/delete", data={"csrf_token": csrf})
    assert listed(factory, tenant.shop_id) == [("Kapot is dringend", True)]

    for foreign in ("999999", "abc", str(2**70)):
        assert client.get(f"/settings/rules/{foreign}").status_code == 404
    other = make_rule(client, other_tenant)
    assert client.post(f"/settings/rules/{other['id']}/delete", data={"csrf_token": csrf}).status_code == 404
    assert client.post("/settings/rules", data=rule_form("forged"), follow_redirects=False).status_code == 403


def test_errors_are_shown_beside_their_row_and_nothing_is_saved(client: TestClient, factory: sessionmaker[Session],
                                                                tenant: Tenant) -> None:
    csrf = sign_in(client, tenant)
    cases = [
        ({"name": ""}, 'data-testid="rule-name-error"'),
        ({"condition_1_value": ""}, 'data-testid="rule-condition-2-error"'),  # channel in: no values
        ({"condition_0_op": "matches", "condition_0_value": "(kapot"}, 'data-testid="rule-condition-1-error"'),
        ({"action_1_value": ""}, 'data-testid="rule-action-2-error"'),
        ({"action_2_action": "assign_agent", "action_2_value": "nobody@example.test"},
         'data-testid="rule-action-3-error"'),
        ({"action_0_value": "dringend"}, 'data-testid="rule-action-1-error"'),
        ({"hours": "12"}, 'data-testid="rule-hours-error"'),
        ({"trigger": "pending_for", "hours": "veel"}, 'data-testid="rule-hours-error"'),
        ({"name": "<script>alert(1)</script>", "action_0_value": "x"}, 'data-testid="rule-action-1-error"'),
    ]
    for fields, marker in cases:
        response = client.post("/settings/rules", data=rule_form(csrf, **fields))
        assert response.status_code == 400, fields
        assert marker in response.text, (fields, response.text[-3000:])
        assert "<script>alert(1)</script>" not in response.text
    assert listed(factory, tenant.shop_id) == []
    dutch = client.post("/settings/rules", data=rule_form(csrf, name=""))
    assert "Geef de regel een naam" in dutch.text
    client.get("/ui/lang/en")
    english = client.post("/settings/rules", data=rule_form(csrf, name=""))
    assert "Give the rule a name" in english.text


def test_agents_may_not_change_rules(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email="medewerker@example.test", name="Mees", password=PASSWORD)
        agent_service.add_to_shop(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id))
    assert log_in(client, "medewerker@example.test").status_code == 303
    csrf = session_token(client.get("/inbox").text)
    assert client.get("/settings/rules").status_code == 403
    assert client.post("/settings/rules", data=rule_form(csrf)).status_code == 403


def test_the_conversation_shows_which_rules_ran_and_what_they_did(client: TestClient, factory: sessionmaker[Session],
                                                                 tenant: Tenant) -> None:
    make_rule(client, tenant)
    make_rule(client, tenant, name="Alleen chat", conditions=[{"field": "channel", "op": "in", "value": ["chat"]}])
    posted = post_message(client, tenant, text="De lamp is kapot")
    work(factory)
    sign_in(client, tenant)
    page = client.get(f"/inbox/c/{posted['conversation_id']}")
    assert page.status_code == 200
    assert 'data-testid="rule-runs"' in page.text
    assert "Kapot is dringend" in page.text and "tagged defect" in page.text and "priority urgent" in page.text
    assert "Alleen chat" in page.text and "channel in chat: no" in page.text
