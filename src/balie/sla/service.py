"""SLA timers on conversations: started, paused, resumed and met as the conversation moves."""

from __future__ import annotations

from sqlalchemy.orm import Session

from balie.conversations.models import Conversation, Message


def on_customer_message(session: Session, conversation: Conversation, message: Message) -> None:
    """Starts the first-response timer, or the next-response one after an answer."""
