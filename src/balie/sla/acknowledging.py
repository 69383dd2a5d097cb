"""Sending the automatic acknowledgement (acknowledge.py holds its texts and when to keep quiet)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from balie.conversations.models import Conversation, Message


def maybe_acknowledge(session: Session, conversation: Conversation, message: Message) -> None:
    """Answers at once with the expected time, when the channel has acknowledgements on."""
