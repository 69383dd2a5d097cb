"""POST /api/v1/conversations: an agent starts an e-mail conversation with a customer."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from balie.conversations import start
from balie.web.deps import DB, ApiActor, Ctx

router = APIRouter(prefix="/api/v1", tags=["conversations"])


class StartCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(max_length=16, description="email (the only channel where we may write first)")
    customer: StartCustomer
    subject: str = Field(max_length=500)
    text: str
    from_: str | None = Field(default=None, alias="from", max_length=320,
                              description="one of the shop's support addresses; default: its first")


class StartedOut(BaseModel):
    conversation_id: int
    message_id: int
    customer_id: int


@router.post("/conversations", status_code=201, response_model=StartedOut)
def start_conversation(body: StartIn, db: DB, actor: ApiActor, context: Ctx) -> StartedOut:
    """Creates the conversation (status pending) and queues the first message for delivery."""
    request = start.Start(
        channel=body.channel, customer_email=body.customer.email, customer_name=body.customer.name or "",
        subject=body.subject, text=body.text, from_address=body.from_,
    )
    started = context.commit_retrying(db, lambda: start.start(db, actor, request))
    return StartedOut(conversation_id=started.conversation_id, message_id=started.message_id,
                      customer_id=started.customer_id)
