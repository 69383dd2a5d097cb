"""Imports every table so that the metadata (and Alembic) sees the whole schema."""

from balie.agents.models import Agent, ApiToken, Membership, Team, TeamMember, WebSession
from balie.audit.models import AuditEvent
from balie.automation.models import Rule, RuleRun
from balie.callbacks.models import Callback, CallbackAttempt
from balie.canned.models import CannedReply
from balie.channels.chat.models import ChatVisitor, WidgetSettings
from balie.channels.email.models import Mailbox
from balie.commerce.models import Connection, Order, OrderLine, Shipment, TrackingEvent, WebhookDelivery
from balie.commerce.promises.models import (
    Breach,
    CarrierTransit,
    CompensationRule,
    NoticeTemplate,
    PromiseSettings,
    Voucher,
)
from balie.conversations.models import Attachment, Conversation, ConversationTag, Message
from balie.customers.models import Customer, CustomerTag, Identity
from balie.db import Base
from balie.hours.models import DatedHours, OpeningInterval
from balie.outbox.models import OutboxEntry
from balie.proactive.models import Invitation, InvitationRule, InvitationSettings, PageEvent
from balie.returns.models import ReturnCase, ReturnException, ReturnLine, ReturnSettings
from balie.scheduling.models import DueJob
from balie.shops.models import Shop
from balie.sla.acknowledgement_settings import AcknowledgementSetting
from balie.sla.models import SlaPolicy, SlaTarget

metadata = Base.metadata

__all__ = [
    "AcknowledgementSetting",
    "Agent",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Breach",
    "Callback",
    "CallbackAttempt",
    "CannedReply",
    "CarrierTransit",
    "ChatVisitor",
    "CompensationRule",
    "Connection",
    "Conversation",
    "ConversationTag",
    "Customer",
    "CustomerTag",
    "DatedHours",
    "DueJob",
    "Identity",
    "Invitation",
    "InvitationRule",
    "InvitationSettings",
    "Mailbox",
    "Membership",
    "Message",
    "NoticeTemplate",
    "OpeningInterval",
    "Order",
    "OrderLine",
    "OutboxEntry",
    "PageEvent",
    "PromiseSettings",
    "ReturnCase",
    "ReturnException",
    "ReturnLine",
    "ReturnSettings",
    "Rule",
    "RuleRun",
    "Shipment",
    "Shop",
    "SlaPolicy",
    "SlaTarget",
    "Team",
    "TeamMember",
    "TrackingEvent",
    "Voucher",
    "WebSession",
    "WebhookDelivery",
    "WidgetSettings",
    "metadata",
]
