"""Imports every table so that the metadata (and Alembic) sees the whole schema."""

from balie.agents.models import Agent, ApiToken, Membership, Team, TeamMember, WebSession
from balie.audit.models import AuditEvent
from balie.canned.models import CannedReply
from balie.channels.email.models import Mailbox
from balie.conversations.models import Attachment, Conversation, ConversationTag, Message
from balie.customers.models import Customer, Identity
from balie.db import Base
from balie.outbox.models import OutboxEntry
from balie.shops.models import Shop

metadata = Base.metadata

__all__ = [
    "Agent",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "CannedReply",
    "Conversation",
    "ConversationTag",
    "Customer",
    "Identity",
    "Mailbox",
    "Membership",
    "Message",
    "OutboxEntry",
    "Shop",
    "Team",
    "TeamMember",
    "WebSession",
    "metadata",
]
