"""A compliment tags its conversation `compliment` (once, beside the agents' tags), is noted
with why in the audit trail and on the message, and the inbox lists them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.audit.models import AuditEvent
from balie.conversations.models import ConversationTag
from balie.scheduling import runner
from balie.worker import HANDLERS
from factories import Tenant, post_message


def conversation(client: TestClient, tenant: Tenant, conversation_id: object) -> dict[str, object]:
    return client.get(f"/api/v1/conversations/{conversation_id}",  # type: ignore[no-any-return]
                      headers=tenant.headers).json()


def test_a_compliment_is_tagged_once_beside_the_agents_tags(client: TestClient, tenant: Tenant,
                                                            factory: sessionmaker[Session]) -> None:
    conversation_id = post_message(client, tenant, text="Waar blijft mijn pakket?")["conversation_id"]
    runner.run_due(factory, HANDLERS)
    assert conversation(client, tenant, conversation_id)["tags"] == []
    client.patch(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers, json={"tags": ["levering"]})

    post_message(client, tenant, text="Super snel geleverd, dank jullie wel!")
    post_message(client, tenant, text="Echt top, bedankt!")
    runner.run_due(factory, HANDLERS)

    detail = conversation(client, tenant, conversation_id)
    assert detail["tags"] == ["levering", "compliment"]
    flags = [message["flags"] for message in detail["messages"]]  # type: ignore[union-attr]
    assert flags == [[], ["compliment"], ["compliment"]]
    with factory() as session:
        rows = session.scalars(select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation_id)
                               .order_by(ConversationTag.tag)).all()
        assert rows == ["compliment", "levering"]
        notes = session.scalars(select(AuditEvent).where(AuditEvent.action == "conversation.compliment")
                                .order_by(AuditEvent.id)).all()
        assert [(row.object_id, row.data["why"], row.data["tagged"]) for row in notes] == [
            (conversation_id, "super", True), (conversation_id, "top", False)]


def test_a_question_with_thanks_is_no_compliment(client: TestClient, tenant: Tenant,
                                                 factory: sessionmaker[Session]) -> None:
    conversation_id = post_message(client, tenant, text="Bedankt! Maar waar blijft mijn pakket?")["conversation_id"]
    runner.run_due(factory, HANDLERS)
    assert conversation(client, tenant, conversation_id)["tags"] == []


def test_the_inbox_filters_on_compliments(client: TestClient, tenant: Tenant,
                                          factory: sessionmaker[Session]) -> None:
    praise = post_message(client, tenant, customer={"email": "blij@example.nl"},
                          text="Thank you so much, great service!")["conversation_id"]
    post_message(client, tenant, customer={"email": "boos@example.nl"}, text="My order is broken.")
    runner.run_due(factory, HANDLERS)

    listed = client.get("/api/v1/conversations?tag=compliment", headers=tenant.headers).json()["items"]

    assert [item["id"] for item in listed] == [praise]
    # The same SLA as any message: still waiting for an answer, in the open queue.
    assert listed[0]["status"] == "open" and listed[0]["waiting_since"] is not None
