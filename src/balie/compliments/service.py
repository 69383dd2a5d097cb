"""After a customer's message: note the language they write in, and mark praise and thanks
(classifier.py says whether a message is one) so the inbox can list them.

A compliment gets the same SLA as any other message: marking it changes what agents can
find (the `compliment` tag, `?tag=compliment`), never when they have to answer.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from balie.audit import service as audit_service
from balie.compliments import classifier
from balie.conversations.models import Conversation, ConversationTag, Message
from balie.customers import language
from balie.customers.models import Customer
from balie.events import Event, publish_on_commit

TAG = "compliment"
FLAG = "compliment"
MAX_TAGS = 20  # as conversations.service.MAX_TAGS allows
MIRROR_CHARS = 1000  # the width of conversation.tags


def mark(session: Session, conversation: Conversation, message: Message) -> bool:
    """Notes the message's language and marks the conversation when the message is praise or thanks."""
    note_language(session, conversation, message)
    if FLAG in message.flags.split() or not classifier.is_compliment(message.text):
        return False
    message.flags = " ".join([*message.flags.split(), FLAG])
    tagged = _tag(session, conversation)
    audit_service.record(
        session, shop_id=conversation.shop_id, actor_agent_id=None, action="conversation.compliment",
        object_type="conversation", object_id=conversation.id,
        data={"message_id": message.id, "why": classifier.why(message.text), "tagged": tagged},
    )
    session.flush()
    if tagged:
        publish_on_commit(session, Event("conversation.updated", conversation.shop_id,
                                         {"conversation_id": conversation.id, "changed": ["tags"]}))
    return True


def note_language(session: Session, conversation: Conversation, message: Message) -> None:
    """A message clear enough to tell sets the customer's language; a short or mixed one
    ("Top!", "OK") leaves what was known."""
    found = language.detect(message.text)
    if found is None:
        return
    session.execute(
        update(Customer)
        .where(Customer.shop_id == conversation.shop_id, Customer.id == conversation.customer_id,
               Customer.language != found)
        .values(language=found)
        .execution_options(synchronize_session="fetch")
    )


def _tag(session: Session, conversation: Conversation) -> bool:
    """Adds the tag beside the agents' tags (the rows and the mirror both); False when it was
    there already or the conversation has as many tags as it may."""
    if session.get_bind().dialect.name == "postgresql":
        # An agent saving tags at this moment would otherwise overwrite the mirror. Flushed
        # first: a refresh discards what the job changed and had not written yet.
        session.flush()
        session.refresh(conversation, with_for_update=True)
    tags = conversation.tag_list
    mirror = " ".join([*tags, TAG])
    if TAG in tags or len(tags) >= MAX_TAGS or len(mirror) > MIRROR_CHARS:
        return False
    session.add(ConversationTag(shop_id=conversation.shop_id, conversation_id=conversation.id, tag=TAG))
    conversation.tags = mirror
    return True
