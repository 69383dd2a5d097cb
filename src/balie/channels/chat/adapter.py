"""The chat channel going out: the reply is already stored, so delivering it means telling
the visitor's open widget (through the event bus, to whichever process holds the socket).
A visitor who is not connected sees it in the history when the widget opens next."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from balie.channels.base import Delivery
from balie.events import Event, publish_on_commit


class ChatAdapter:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def deliver(self, delivery: Delivery) -> None:
        data = {"conversation_id": delivery.conversation.id, "message_id": delivery.message.id,
                "customer_id": delivery.customer.id}
        with self.factory() as session, session.begin():  # published by the session's bus on commit
            publish_on_commit(session, Event("chat.message", delivery.shop.id, data))
