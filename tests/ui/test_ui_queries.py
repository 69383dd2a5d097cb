"""The inbox and conversation pages are the agents' hot path: their query count is pinned
and must not grow with the number of rows or messages."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from factories import Tenant, post_message
from statements import counting
from ui_support import sign_in


def queries(factory: sessionmaker[Session], request: Callable[[], object]) -> list[str]:
    with counting(factory) as statements:
        request()
    return [statement.split("\n")[0][:100] for statement in statements]


def test_inbox_queries_do_not_grow_with_the_list(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    for index in range(3):
        post_message(client, tenant, customer={"email": f"a{index}@example.nl"})
    sign_in(client, tenant)
    few = queries(factory, lambda: client.get("/inbox"))
    few_partial = queries(factory, lambda: client.get("/ui/partials/list"))
    for index in range(12):
        post_message(client, tenant, customer={"email": f"b{index}@example.nl"})
    many = queries(factory, lambda: client.get("/inbox"))
    many_partial = queries(factory, lambda: client.get("/ui/partials/list"))

    assert len(few) == len(many) <= 6, many
    assert len(few_partial) == len(many_partial) <= 5, many_partial


def test_conversation_queries_do_not_grow_with_the_messages(
    client: TestClient, tenant: Tenant, factory: sessionmaker[Session]
) -> None:
    conversation_id = post_message(client, tenant)["conversation_id"]
    sign_in(client, tenant)
    few = queries(factory, lambda: client.get(f"/inbox/c/{conversation_id}"))
    for index in range(10):
        post_message(client, tenant, text=f"Bericht {index}")
    many = queries(factory, lambda: client.get(f"/inbox/c/{conversation_id}"))
    partial = queries(factory, lambda: client.get(f"/ui/partials/conversation/{conversation_id}"))

    # 15, one for the customer's tags, two for the customer's orders and the shop's language and time zone
    assert len(few) == len(many) <= 18, many
    # 11, one for the conversation's pending follow-ups, one for the automation rules' runs, one for the
    # customer's tags, two for the customer's orders and the shop's language and time zone (the texts the
    # order buttons insert)
    assert len(partial) <= 16, partial
