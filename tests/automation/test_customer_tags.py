"""The `customer_tags` condition: a rule sees the tags the conversation's customer has when it
runs, however the admin spelled them, in one query."""

from __future__ import annotations

from automation_support import conversation, make_rule, runs, work
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie.automation import engine
from balie.conversations.models import Conversation
from factories import Tenant, post_message
from statements import counting

VIP_FIRST = {"name": "Grote klanten eerst", "trigger": "message_received",
             "conditions": [{"field": "customer_tags", "op": "any", "value": ["Grote Klant", "vip"]}],
             "actions": [{"action": "set_priority", "value": "high"}]}


def tag(client: TestClient, tenant: Tenant, customer_id: object, value: str) -> None:
    response = client.post(f"/api/v1/customers/{customer_id}/tags", json={"tag": value}, headers=tenant.headers)
    assert response.status_code == 201, response.text


def test_a_rule_fires_for_a_tagged_customer_only(client: TestClient, factory: sessionmaker[Session],
                                                 tenant: Tenant) -> None:
    make_rule(client, tenant, **VIP_FIRST)
    big = post_message(client, tenant, customer={"email": "groot@example.nl"}, text="Waar blijft mijn order?")
    small = post_message(client, tenant, customer={"email": "klein@example.nl"}, text="Waar blijft mijn order?")
    tag(client, tenant, big["customer_id"], "grote klant")  # stored as grote-klant
    tag(client, tenant, small["customer_id"], "nieuw")

    work(factory)

    assert conversation(client, tenant, big["conversation_id"])["priority"] == "high"
    assert conversation(client, tenant, small["conversation_id"])["priority"] == "normal"
    [fired] = runs(client, tenant, big["conversation_id"])
    [skipped] = runs(client, tenant, small["conversation_id"])
    assert fired["outcome"] == "fired"
    assert (skipped["outcome"], skipped["reason"]) == ("skipped", "customer_tags any grote-klant, vip: no")


def test_none_holds_until_the_customer_gets_the_tag(client: TestClient, factory: sessionmaker[Session],
                                                   tenant: Tenant) -> None:
    make_rule(client, tenant, name="Geen wederverkoper", trigger="message_received",
              conditions=[{"field": "customer_tags", "op": "none", "value": ["wederverkoper"]}],
              actions=[{"action": "add_tag", "value": "consument"}])
    first = post_message(client, tenant, text="Eerste vraag")
    work(factory)
    assert conversation(client, tenant, first["conversation_id"])["tags"] == ["consument"]

    tag(client, tenant, first["customer_id"], "Wederverkoper")
    client.patch(f"/api/v1/conversations/{first['conversation_id']}", json={"tags": []}, headers=tenant.headers)
    second = post_message(client, tenant, text="Nog een vraag")
    work(factory)

    assert second["conversation_id"] == first["conversation_id"]
    assert conversation(client, tenant, first["conversation_id"])["tags"] == []
    assert sorted(run["outcome"] for run in runs(client, tenant, first["conversation_id"])) == ["fired", "skipped"]


def test_the_customers_tags_cost_one_query(client: TestClient, factory: sessionmaker[Session],
                                           tenant: Tenant) -> None:
    posted = post_message(client, tenant)
    for value in ("vip", "zakelijk", "retour"):
        tag(client, tenant, posted["customer_id"], value)
    with factory() as session:
        found = session.get_one(Conversation, posted["conversation_id"])
        with counting(session.get_bind()) as statements:
            facts = engine.gather(session, found, None, ())

    assert facts.customer_tags == frozenset({"vip", "zakelijk", "retour"})
    assert len([statement for statement in statements if "customer_tag" in statement]) == 1
