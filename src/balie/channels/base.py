"""What a channel adapter offers the dispatcher, and the registry that finds it by name.

A channel never imports another channel; the dispatcher only knows this interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from balie.conversations.models import Conversation, Message
from balie.customers.models import Customer, Identity
from balie.shops.models import Shop


class TemporaryFailure(Exception):
    """Try again later (connection refused, timeout, 5xx, 429)."""


class PermanentFailure(Exception):
    """Retrying cannot help (rejected, misconfigured); the agent must see it."""


@dataclass(frozen=True)
class Delivery:
    delivery_id: str  # stable across retries, so a receiver can drop a repeat
    shop: Shop
    conversation: Conversation
    message: Message
    customer: Customer
    identities: list[Identity]
    agent_name: str


class Adapter(Protocol):
    def deliver(self, delivery: Delivery) -> None: ...


_ADAPTERS: dict[str, Adapter] = {}


def register(channel: str, adapter: Adapter) -> None:
    _ADAPTERS[channel] = adapter


def adapter_for(channel: str) -> Adapter | None:
    return _ADAPTERS.get(channel)
