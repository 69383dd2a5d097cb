"""SLA timers on conversations: started, paused, resumed and met as the conversation moves."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from balie.conversations.models import Conversation, Message


def on_customer_message(session: Session, conversation: Conversation, message: Message) -> None:
    """Starts the first-response timer, or the next-response one after an answer."""


def expected_answer_at(session: Session, conversation: Conversation) -> dt.datetime | None:
    """When the customer can expect an answer: the running first- or next-response due time
    (None when no timer runs). The automatic acknowledgement names this moment."""
    return None
