"""The order a conversation is about, in the words a customer reads: {{order.*}} variables in a
rule's canned reply, and the live status in the automatic acknowledgement of "waar blijft mijn
bestelling?" — only ever the customer's own order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from balie import clock, worker
from balie.canned import service as canned_service
from balie.scheduling import runner
from balie.sla import acknowledgement_settings
from factories import Tenant, post_message
from order_support import POSTNL, place

SCANNED = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
IN_TRANSIT = [("info_received", SCANNED - dt.timedelta(hours=10), "Zending aangemeld"),
              ("in_transit", SCANNED, "Sorteercentrum Nieuwegein")]
SOON = "We hebben je bericht ontvangen. Je hoort uiterlijk morgen om 11:00 van ons."


def work(factory: sessionmaker[Session]) -> None:
    while runner.run_due(factory, worker.HANDLERS):
        pass


def outbound(client: TestClient, tenant: Tenant, conversation_id: object) -> list[str]:
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    return [message["text"] for message in detail["messages"] if message["direction"] == "out"]


def acknowledged(client: TestClient, factory: sessionmaker[Session], tenant: Tenant, text: str,
                 email: str = "jan@example.nl") -> str:
    with factory() as session, session.begin():
        acknowledgement_settings.set_enabled(session, shop_id=tenant.shop_id, channel="api", on=True,
                                             actor_agent_id=tenant.agent_id)
    posted = post_message(client, tenant, text=text, customer={"email": email, "name": "Jan Jansen"})
    work(factory)
    [ack] = outbound(client, tenant, posted["conversation_id"])
    return ack


def test_waar_blijft_mijn_bestelling_gets_the_live_status(client: TestClient, factory: sessionmaker[Session],
                                                          tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", parcel=POSTNL, scans=IN_TRANSIT)

    ack = acknowledged(client, factory, tenant, "Waar blijft mijn bestelling? Ik heb hem gisteren besteld.")

    assert ack == (f"{SOON}\n\nJe bestelling 10023 is onderweg. Verwachte levering: woensdag 25 november.\n"
                   "Volg je pakket bij PostNL: https://postnl.example/track/3SABC123")


def test_in_english_for_an_english_customer(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                            frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", promised=dt.date(2026, 11, 23), parcel=POSTNL, scans=IN_TRANSIT)

    ack = acknowledged(client, factory, tenant, "Hello, where is my order? I have been waiting for days.")

    # The promised day has passed: no "expected" date in the past.
    assert ack == ("We have received your message. You will hear from us by 11:00 tomorrow.\n\nYour order 10023 is on "
                   "its way. We promised delivery on Monday 23 November; we are finding out where your parcel is.\n"
                   "Track your parcel with PostNL: https://postnl.example/track/3SABC123")


def test_the_order_they_mention_wins_over_the_newest(client: TestClient, factory: sessionmaker[Session],
                                                     tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", parcel=POSTNL, scans=IN_TRANSIT)
    place(factory, tenant.shop_id, "10031", placed_at=clock.now() - dt.timedelta(hours=1), promised=None)

    mentioned = acknowledged(client, factory, tenant, "Waar is mijn pakket van bestelling 10023?")
    assert "Je bestelling 10023 is onderweg." in mentioned


def test_no_status_for_a_stranger_or_an_order_of_someone_else(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", parcel=POSTNL, scans=IN_TRANSIT)

    # Someone else quoting Jan's order number learns nothing about it.
    assert acknowledged(client, factory, tenant, "Waar blijft mijn bestelling 10023?",
                        email="iemand@example.nl") == SOON


def test_no_status_when_they_ask_something_else_or_have_nothing_open(
        client: TestClient, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", parcel=POSTNL, scans=IN_TRANSIT)
    assert acknowledged(client, factory, tenant, "Ik wil mijn bestelling retourneren") == SOON


def test_a_delivered_order_is_not_open(client: TestClient, factory: sessionmaker[Session], tenant: Tenant,
                                      frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", parcel=POSTNL,
          scans=[*IN_TRANSIT, ("delivered", SCANNED + dt.timedelta(hours=1), "Bezorgd")])
    assert acknowledged(client, factory, tenant, "Waar blijft mijn bestelling?") == SOON


def test_a_delivered_order_they_name_is_told_delivered(client: TestClient, factory: sessionmaker[Session],
                                                       tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", parcel=POSTNL,
          scans=[*IN_TRANSIT, ("delivered", SCANNED + dt.timedelta(hours=1), "Bezorgd")])
    assert acknowledged(client, factory, tenant, "Waar blijft bestelling 10023?").endswith(
        "Je bestelling 10023 is bezorgd op dinsdag 24 november.\n"
        "Volg je pakket bij PostNL: https://postnl.example/track/3SABC123")


def canned_rule(client: TestClient, factory: sessionmaker[Session], tenant: Tenant, body: str) -> None:
    with factory() as session, session.begin():
        reply = canned_service.create(session, shop_id=tenant.shop_id, title="Status", shortcut="status", body=body)
    response = client.post("/api/v1/rules", headers=tenant.headers, json={
        "name": "Status", "trigger": "message_received",
        "conditions": [],
        "actions": [{"action": "send_canned", "value": reply.id}]})
    assert response.status_code == 201, response.text


def replied(client: TestClient, factory: sessionmaker[Session], tenant: Tenant, text: str,
            email: str = "jan@example.nl") -> list[str]:
    posted: dict[str, Any] = post_message(client, tenant, text=text, customer={"email": email})
    work(factory)
    return outbound(client, tenant, posted["conversation_id"])


VARIABLES = ("{{order.number}}|{{order.status}}|{{order.delivery_status}}|{{order.total}}|{{order.placed_date}}|"
             "{{order.promised_date}}|{{order.carrier}}|{{order.tracking_code}}|{{order.tracking_url}}")


def test_a_rules_canned_reply_fills_in_the_order(client: TestClient, factory: sessionmaker[Session],
                                                 tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    place(factory, tenant.shop_id, "10023", parcel=POSTNL, scans=IN_TRANSIT)
    canned_rule(client, factory, tenant, VARIABLES)

    assert replied(client, factory, tenant, "Waar is mijn pakket?") == [
        "10023|open|is onderweg|€\xa0938,90|maandag 23 november|woensdag 25 november|PostNL|3SABC123|"
        "https://postnl.example/track/3SABC123"]
    place(factory, tenant.shop_id, "10024", email="john@example.com", parcel={**POSTNL, "tracking_code": "3SXYZ"})
    assert replied(client, factory, tenant, "Where is my parcel? I ordered it on Monday.",
                   email="john@example.com") == [
        "10024|open|is being prepared for shipping|€938.90|Monday 23 November|Wednesday 25 November|PostNL|3SXYZ|"
        "https://postnl.example/track/3SABC123"]


def test_without_an_order_the_variables_are_empty(client: TestClient, factory: sessionmaker[Session],
                                                  tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    canned_rule(client, factory, tenant, "Bestelling: {{order.number}}{{order.tracking_url}}.")
    assert replied(client, factory, tenant, "Waar is mijn pakket?", email="nieuw@example.nl") == ["Bestelling: ."]


def test_a_window_promise_and_a_mentioned_order(client: TestClient, factory: sessionmaker[Session],
                                                tenant: Tenant, frozen_clock: clock.FrozenClock) -> None:
    start = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)
    place(factory, tenant.shop_id, "10023", window=(start, start + dt.timedelta(hours=4)), promised=None)
    place(factory, tenant.shop_id, "10031", placed_at=clock.now() - dt.timedelta(hours=1))
    canned_rule(client, factory, tenant, "{{order.number}}: {{order.promised_date}}")
    assert replied(client, factory, tenant, "Het pakket van bestelling #10023 dus") == [
        "10023: woensdag 25 november tussen 18:00 en 22:00"]
