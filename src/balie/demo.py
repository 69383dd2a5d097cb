"""The demo shop "Demo Webwinkel": agents, customers and conversations on every channel,
so a new install shows a working inbox straight away."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from balie import clock
from balie.agents import service as agent_service
from balie.agents.models import Agent
from balie.canned import service as canned_service
from balie.channels.email import service as mailbox_service
from balie.conversations import service as conversation_service
from balie.conversations.ingest import InboundMessage, ingest
from balie.conversations.models import Conversation, Message
from balie.customers.models import Customer
from balie.customers.service import IdentityRef, normalise
from balie.security import verify_password
from balie.shops import service as shop_service

DEMO_SHOP = "Demo Webwinkel"
DEMO_ADMIN = "sanne@demo.balie.test"
DEMO_MAILBOX = "support@demo.balie.test"
DEMO_PASSWORD = "balie-demo"  # noqa: S105 - printed on every start; change it in production

# channel, customer name, identities, subject, messages [(minutes ago, direction, text)], status, tags, priority
Seed = tuple[str, str, list[tuple[str, str]], str, list[tuple[int, str, str]], str, list[str], str]
CONVERSATIONS: list[Seed] = [
    ("email", "Fatima el Amrani", [("email", "fatima@example.nl")], "Kortingscode werkt niet",
     [(20000, "in", "De code WELKOM10 wordt niet geaccepteerd bij het afrekenen."),
      (19900, "out", "Excuses! De code is nu weer actief. Probeer het gerust nog eens.")],
     "resolved", ["korting"], "normal"),
    ("email", "Fatima el Amrani", [("email", "fatima@example.nl")], "Waar blijft mijn bestelling #10432?",
     [(190, "in", "Hoi, ik heb vorige week besteld (#10432) maar nog niets ontvangen. "
       "Kunt u kijken waar het pakket is?")],
     "open", ["bezorging"], "high"),
    ("chat", "Joris Bakker", [("visitor", "v-8f2a"), ("email", "joris.bakker@example.nl")], "Maat van de regenjas",
     [(42, "in", "Valt de regenjas Storm klein of normaal? Ik twijfel tussen M en L."),
      (40, "out", "Hoi Joris! De Storm valt normaal. Bij twijfel raden we de grotere maat aan "
       "als je er een trui onder wilt dragen."),
      (12, "in", "Top, dan wordt het L. Kan ik vandaag nog bestellen voor levering morgen?")],
     "open", ["productvraag"], "normal"),
    ("whatsapp", "Emma Visser", [("phone", "+31612345678")], "Retour aanmelden",
     [(300, "in", "Goedemiddag, ik wil de schoenen terugsturen, ze passen niet. Hoe werkt dat?")],
     "open", ["retour"], "normal"),
    ("api", "Lucas Peeters", [("email", "lucas.peeters@example.be"), ("external", "shop-cust-5521")],
     "Factuur op bedrijfsnaam",
     [(1500, "in", "Kan ik een factuur krijgen op naam van mijn bedrijf? BTW-nummer BE0123456789."),
      (1440, "out", "Zeker, we passen de factuur aan en sturen hem vandaag nog.")],
     "pending", ["factuur"], "low"),
    ("phone", "Noah de Jong", [("phone", "+31201234567")], "Terugbelverzoek: betaling mislukt",
     [(20, "in", "Terugbelverzoek: iDEAL-betaling mislukt maar het bedrag is wel afgeschreven.")],
     "open", ["betaling"], "urgent"),
    ("social", "Mila Janssens", [("social", "@mila.janssens")], "Compliment voor de snelle levering",
     [(4000, "in", "Wauw, gisteren besteld en vandaag al binnen. Top service! 😍"),
      (3900, "out", "Dankjewel Mila, wat leuk om te horen! Veel plezier ermee.")],
     "resolved", ["compliment"], "normal"),
    ("form", "Sem Willems", [("email", "sem.willems@example.nl")], "Vraag over garantie",
     [(600, "in", "Mijn koptelefoon doet het na 8 maanden niet meer aan de linkerkant. Valt dit onder de garantie?")],
     "snoozed", ["garantie"], "normal"),
]

CANNED = [
    ("Begroeting", "hallo", "Hoi {{customer.first_name}},\n\nDank voor je bericht! "),
    ("Track & trace", "tt", "Hoi {{customer.first_name}},\n\nJe pakket is onderweg. Je ontvangt de track & "
     "trace-link per e-mail. Groet, {{agent.first_name}} van {{shop.name}}"),
    ("Retour", "retour", "Hoi {{customer.first_name}},\n\nRetourneren kan binnen 14 dagen via "
     "ons retourportaal. Het retourlabel is gratis. Groet, {{agent.first_name}}"),
]


def login_hint(session: Session) -> tuple[str, str] | None:
    """The demo login, if the demo admin still has the demo password."""
    agent = session.scalars(select(Agent).where(Agent.email == DEMO_ADMIN)).first()
    if agent is not None and verify_password(agent.password_hash, DEMO_PASSWORD):
        return DEMO_ADMIN, DEMO_PASSWORD
    return None


def seed(session: Session) -> tuple[str, str]:
    shop = shop_service.create(session, name=DEMO_SHOP)
    admin = agent_service.by_email(session, DEMO_ADMIN) or agent_service.create(
        session, email=DEMO_ADMIN, name="Sanne de Vries", password=DEMO_PASSWORD)
    agent_service.add_to_shop(session, agent=admin, shop=shop, role="admin")
    colleague = agent_service.by_email(session, "daan@demo.balie.test") or agent_service.create(
        session, email="daan@demo.balie.test", name="Daan Jansen", password=DEMO_PASSWORD)
    agent_service.add_to_shop(session, agent=colleague, shop=shop, role="agent")
    agent_service.create_team(session, shop_id=shop.id, name="Klantenservice",
                              agent_ids=[admin.id, colleague.id])
    mailbox_service.create(session, shop_id=shop.id, address=DEMO_MAILBOX, display_name=DEMO_SHOP)
    for title, shortcut, body in CANNED:
        canned_service.create(session, shop_id=shop.id, title=title, shortcut=shortcut, body=body)

    actor = agent_service.actor(session, agent_id=admin.id, shop_id=shop.id)
    now = clock.now()
    for index, (channel, name, idents, subject, messages, status, tags, priority) in enumerate(CONVERSATIONS):
        refs = [normalise(kind, value) for kind, value in idents]
        conversation_id = 0
        for minutes_ago, direction, body in messages:
            when = now - dt.timedelta(minutes=minutes_ago)
            if direction == "in":
                result = ingest(session, _inbound(shop.id, channel, refs, name, subject, body),
                                reopen_window=dt.timedelta(0))
                conversation_id = result.conversation_id
                message = session.get_one(Message, result.message_id)
            else:
                message = conversation_service.reply(session, actor, conversation_id, body, status=None)
                message.delivery_state = "sent"  # history: it went out long ago
                message.author_agent_id = colleague.id if index % 2 else admin.id
            message.created_at = when
            conversation = session.get_one(Conversation, conversation_id)
            conversation.last_activity_at = when
            if direction == "out" and conversation.first_response_at is not None:
                conversation.first_response_at = min(conversation.first_response_at, when)
            if conversation.waiting_since is not None and direction == "in":
                conversation.waiting_since = min(conversation.waiting_since, when)
            if conversation.created_at > when:
                conversation.created_at = when
            customer = session.get_one(Customer, conversation.customer_id)
            customer.created_at = min(customer.created_at, when)
        changes = conversation_service.Changes(
            tags=tags, priority=priority,
            assignee_id=admin.id if index in (1, 3) else None,
        )
        if status == "snoozed":
            changes.snoozed_until = now + dt.timedelta(days=1)
        elif status != "open":
            changes.status = status
        conversation = conversation_service.update(session, actor, conversation_id, changes)
        if conversation.resolved_at is not None:
            conversation.resolved_at = conversation.last_activity_at
    _mark_history_delivered(session, shop.id)
    session.flush()
    return DEMO_ADMIN, DEMO_PASSWORD


def _inbound(shop_id: int, channel: str, refs: list[IdentityRef], name: str, subject: str,
             body: str) -> InboundMessage:
    return InboundMessage(shop_id=shop_id, channel=channel, identities=refs, text=body,
                          subject=subject, customer_name=name)


def _mark_history_delivered(session: Session, shop_id: int) -> None:
    from balie.outbox.models import OutboxEntry

    for entry in session.scalars(select(OutboxEntry).where(OutboxEntry.shop_id == shop_id)):
        entry.status = "sent"
        entry.sent_at = entry.created_at
