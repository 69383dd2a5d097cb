"""Each action's effect, seen as an agent or a receiver would see it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from automation_support import conversation, make_rule, runs, work
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from balie import clock
from balie.agents import service as agent_service
from balie.automation import webhooks
from balie.canned import service as canned_service
from balie.events import Event
from balie.follow_ups.service import KIND as FOLLOW_UP
from balie.outbox.models import OutboxEntry
from balie.scheduling.models import DueJob
from balie.shops.models import Shop
from factories import Tenant, post_message
from webhooks import receiving


def fire(client: TestClient, factory: sessionmaker[Session], tenant: Tenant, *actions: dict[str, Any],
         text: str = "kapot", email: str = "klant@example.nl") -> dict[str, Any]:
    make_rule(client, tenant, name=f"Regel {actions[0]['action']} {email}",
              conditions=[{"field": "text", "op": "contains", "value": text}], actions=list(actions))
    posted = post_message(client, tenant, text=f"Het is {text}", customer={"email": email, "name": "Klaas Klant"})
    work(factory)
    return conversation(client, tenant, posted["conversation_id"])


def colleague(factory: sessionmaker[Session], tenant: Tenant, email: str, *, online: bool = True) -> int:
    with factory() as session, session.begin():
        agent = agent_service.create(session, email=email, name=email.split("@")[0].title())
        agent_service.add_to_shop(session, agent=agent, shop=session.get_one(Shop, tenant.shop_id))
        agent.last_seen_at = clock.now() if online else None
        return agent.id


def test_assign_tag_priority_status(client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    shown = fire(client, factory, tenant, {"action": "assign_agent", "value": tenant.agent_id},
                 {"action": "add_tag", "value": "Defect Product"}, {"action": "set_priority", "value": "high"},
                 {"action": "set_status", "value": "pending"})
    assert shown["assignee"]["id"] == tenant.agent_id
    assert shown["tags"] == ["defect-product"] and shown["priority"] == "high" and shown["status"] == "pending"
    with factory() as session, session.begin():
        team = agent_service.create_team(session, shop_id=tenant.shop_id, name="Retouren", agent_ids=[])
    shown = fire(client, factory, tenant, {"action": "assign_team", "value": team.id},
                 {"action": "remove_tag", "value": "defect-product"}, {"action": "set_status", "value": "resolved"},
                 email="tweede@example.nl")
    assert shown["team_id"] == team.id and shown["status"] == "resolved"


def test_round_robin_spreads_over_online_agents_within_capacity(client: TestClient, factory: sessionmaker[Session],
                                                                 tenant: Tenant) -> None:
    first = colleague(factory, tenant, "anna@example.test")
    second = colleague(factory, tenant, "bram@example.test")
    colleague(factory, tenant, "offline@example.test", online=False)
    make_rule(client, tenant, name="Verdeel", conditions=[], actions=[{"action": "round_robin", "value": 1}])
    assigned = []
    for number in range(3):
        posted = post_message(client, tenant, text="Vraag", customer={"email": f"k{number}@example.nl"})
        work(factory)
        assignee = conversation(client, tenant, posted["conversation_id"])["assignee"]
        assigned.append(assignee["id"] if assignee else None)
    assert sorted(assigned[:2]) == sorted([first, second]) and assigned[2] is None
    (last,) = runs(client, tenant, posted["conversation_id"])
    assert last["results"][0]["detail"] == "every online agent already has 1 open conversations"


def test_canned_reply_goes_out_through_the_outbox_and_a_note_stays_inside(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant) -> None:
    with factory() as session, session.begin():
        reply = canned_service.create(session, shop_id=tenant.shop_id, title="Sorry", shortcut="sorry",
                                      body="Beste {{customer.first_name}}, wat vervelend!")
    shown = fire(client, factory, tenant, {"action": "send_canned", "value": reply.id},
                 {"action": "add_note", "value": "Garantie nakijken"})
    out = [m for m in shown["messages"] if m["direction"] == "out"]
    notes = [m for m in shown["messages"] if m["direction"] == "note"]
    assert [m["text"] for m in out] == ["Beste Klaas, wat vervelend!"]
    assert notes[0]["text"].startswith("Garantie nakijken")
    with factory() as session:
        assert session.scalars(select(OutboxEntry.message_id)).all() == [out[0]["id"]]


def test_notify_reaches_the_agents_screens(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                           app: Any) -> None:
    seen: list[Event] = []
    app.state.context.bus.add_listener(seen.append)
    shown = fire(client, factory, tenant, {"action": "notify", "value": "Boze klant, snel bellen"})
    notices = [item for item in seen if item.type == "automation.notify"]
    assert [(item.shop_id, item.data["conversation_id"], item.data["text"]) for item in notices] == [
        (tenant.shop_id, shown["id"], "Boze klant, snel bellen")]


def test_follow_up_is_scheduled(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                frozen_clock: clock.FrozenClock) -> None:
    shown = fire(client, factory, tenant, {"action": "follow_up", "value": 48, "note": "Is het pakket er?"})
    with factory() as session:
        job = session.scalars(select(DueJob).where(DueJob.kind == FOLLOW_UP, DueJob.ref_id == shown["id"])).one()
        assert job.due_at == clock.now() + dt.timedelta(hours=48) and job.payload["note"] == "Is het pakket er?"


def test_webhook_is_signed_and_sent_after_commit_and_retried(client: TestClient, factory: sessionmaker[Session],
                                                             tenant: Tenant) -> None:
    with receiving() as receiver:
        receiver.statuses = [503]
        url = receiver.url.replace("http://", "https://")
        shown = fire(client, factory, tenant, {"action": "webhook", "value": url})
        assert receiver.received == []  # queued with the rule's run; nothing sent from inside the job
        with factory() as session, session.begin():  # the receiver speaks plain HTTP on loopback
            session.execute(update(DueJob).where(DueJob.kind == "automation.webhook")
                            .values(payload={**session.scalars(select(DueJob.payload).where(
                                DueJob.kind == "automation.webhook")).one(), "url": receiver.url}))
        assert webhooks.deliver_due(factory, allow_private=True) == 1  # 503: tried again later
        with factory() as session, session.begin():
            session.execute(update(DueJob).where(DueJob.kind == "automation.webhook")
                            .values(next_attempt_at=clock.now()))
        assert webhooks.deliver_due(factory, allow_private=True) == 1
        assert webhooks.deliver_due(factory, allow_private=True) == 0  # delivered: never again
    assert len(receiver.received) == 2
    headers, body = receiver.received[-1]
    with factory() as session:
        secret = session.get_one(Shop, tenant.shop_id).webhook_secret
    expected = hmac.new(secret.encode(), headers["x-balie-timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["x-balie-signature"] == "sha256=" + expected.hexdigest()
    sent = json.loads(body)
    assert sent["type"] == "automation.rule_fired" and sent["conversation"]["id"] == shown["id"]
    (run,) = runs(client, tenant, shown["id"])
    assert run["results"][-1] == {"action": "webhook", "ok": True, "detail": "delivered (200)"}


def test_webhook_to_an_internal_address_is_refused_at_delivery(client: TestClient, factory: sessionmaker[Session],
                                                               tenant: Tenant) -> None:
    shown = fire(client, factory, tenant, {"action": "webhook", "value": "https://127.0.0.1:9/hook"})
    assert webhooks.deliver_due(factory) == 1
    with factory() as session:
        job = session.scalars(select(DueJob).where(DueJob.kind == "automation.webhook")).one()
        assert job.state == "failed" and "internal address" in (job.last_error or "")
    (run,) = runs(client, tenant, shown["id"])
    assert run["results"][-1]["ok"] is False


def test_block_customer_silences_their_next_messages(client: TestClient, factory: sessionmaker[Session],
                                                     tenant: Tenant) -> None:
    shown = fire(client, factory, tenant, {"action": "block_customer", "value": "muted"}, text="scheldwoord")
    customer = client.get(f"/api/v1/customers/{shown['customer_id']}", headers=tenant.headers).json()
    assert customer["block"]["mode"] == "muted" and customer["block"]["by_agent_id"] is None
    assert customer["block"]["reason"] == "Regel block_customer klant@example.nl"
    # The next message is stored and shown, but no rule runs for it and no SLA clock starts.
    posted = post_message(client, tenant, text="Nog een scheldwoord", customer={"email": "klant@example.nl"})
    work(factory)
    again = conversation(client, tenant, posted["conversation_id"])
    assert [m["text"] for m in again["messages"]][-1] == "Nog een scheldwoord"
    assert len(runs(client, tenant, posted["conversation_id"])) == 1  # only the first message's run


def test_block_customer_takes_only_blocked_or_muted(client: TestClient, tenant: Tenant) -> None:
    answer = client.post("/api/v1/rules", headers=tenant.headers, json={
        "name": "Fout", "trigger": "message_received", "actions": [{"action": "block_customer", "value": "banned"}]})
    assert answer.status_code == 400
    assert "action 1 (block_customer): choose one of blocked, muted" in answer.json()["detail"]


def test_a_status_set_by_a_rule_pauses_the_sla_clock(client: TestClient, factory: sessionmaker[Session],
                                                     tenant: Tenant) -> None:
    shown = fire(client, factory, tenant, {"action": "set_status", "value": "pending"}, text="wacht even")
    assert shown["status"] == "pending" and shown["sla"]["state"] == "paused"
