"""Ingest's two common cases on PostgreSQL, each in one statement.

Most messages come from a customer Balie already knows, into the conversation that customer
has open; most of the others come from someone new. For these two cases one statement does
what `ingest` otherwise does in five to eight round trips: dedupe, find the customer by its
identities (or create it with its identities and a conversation), lock the open conversation,
store the message, schedule what follows it and update the conversation. The ORM version cost about 5 ms of Python per
message, which kept one process under 200 messages/s (docs/benchmarks.md).

When anything is out of the ordinary (an identity Balie does not know beside ones it does,
identities of two customers, a name to fill in, no open conversation so one may reopen, or
several open ones so the most recent must be chosen) the
statement writes nothing and says so, and `ingest` takes its general path in the same
transaction. Written as SQL by hand: SQLite has no data-modifying CTEs, and the ORM's
statement building is what this path exists to avoid.

Locking, in the order every writer uses (customer, then conversation, so that no two wait
on each other): the customers found are locked, oldest first, then the open conversation.
What changed them while this statement waited for a lock is seen in the locked rows (a
merged customer, a resolved conversation: PostgreSQL re-checks a locked row against its
newest version) but not in the rest of the statement's snapshot; so anything unexpected,
such as a conversation another message has just opened, sends the message to the general
path, whose statements see it. Two messages from one new customer at once: the second
fails on identity's unique key, and the caller retries, as on the general path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:  # ingest imports this module
    from balie.conversations.ingest import InboundMessage

# The general path looks at as many (ingest._answered_conversation).
MAX_REFERENCES = 50


@dataclass(frozen=True)
class Outcome:
    message_id: int
    conversation_id: int
    customer_id: int
    created: bool  # False: the message was there already (same external id)


@cache
def _statement(identity_count: int) -> str:
    # Only placeholders and a count are formatted in; every value travels as a parameter.
    pairs = ", ".join(f"(%(kind{i})s, %(value{i})s)" for i in range(identity_count))
    return f"""
WITH dup AS (
    SELECT m.id, m.conversation_id, cv.customer_id
    FROM message m JOIN conversation cv ON cv.id = m.conversation_id
    WHERE m.shop_id = %(shop_id)s AND m.channel = %(channel)s AND m.external_id = %(external_id)s
),
known AS (
    SELECT i.customer_id, c.merged_into_id, c.name
    FROM identity i JOIN customer c ON c.id = i.customer_id
    WHERE i.shop_id = %(shop_id)s AND (i.kind, i.value) IN ({pairs})
    ORDER BY c.id
    FOR UPDATE OF c
),
target AS (
    SELECT min(customer_id) AS customer_id FROM known
    HAVING count(*) = {identity_count} AND count(DISTINCT customer_id) = 1
       AND bool_and(merged_into_id IS NULL) AND (%(name)s = '' OR bool_and(name <> ''))
),
answered AS (
    SELECT 1 FROM unnest(%(references)s::text[]) AS r (ref)
    JOIN message m ON m.shop_id = %(shop_id)s AND m.channel = %(channel)s AND m.external_id = r.ref
    JOIN conversation cv ON cv.id = m.conversation_id
    WHERE cardinality(%(references)s::text[]) > 0 AND cv.status <> 'closed'
    LIMIT 1
),
active AS (
    SELECT cv.id, cv.customer_id FROM conversation cv
    WHERE cv.shop_id = %(shop_id)s AND cv.customer_id = (SELECT customer_id FROM target)
      AND cv.channel = %(channel)s AND NOT %(start_new)s
      AND cv.status IN ('open', 'pending', 'snoozed') AND NOT EXISTS (SELECT 1 FROM dup)
    FOR UPDATE OF cv
),
conv AS (
    SELECT id, customer_id FROM active WHERE (SELECT count(*) FROM active) = 1
),
new_customer AS (
    INSERT INTO customer (shop_id, name, created_at)
    SELECT %(shop_id)s, %(name)s, %(now)s
    WHERE NOT EXISTS (SELECT 1 FROM known) AND NOT EXISTS (SELECT 1 FROM dup)
      AND NOT EXISTS (SELECT 1 FROM answered)
    RETURNING id
),
starting AS (
    SELECT id AS customer_id FROM new_customer
    UNION ALL
    SELECT customer_id FROM target
    WHERE %(start_new)s AND NOT EXISTS (SELECT 1 FROM dup) AND NOT EXISTS (SELECT 1 FROM answered)
),
new_identity AS (
    INSERT INTO identity (shop_id, customer_id, kind, value, created_at)
    SELECT %(shop_id)s, nc.id, v.kind, v.value, %(now)s
    FROM new_customer nc CROSS JOIN (VALUES {pairs}) AS v (kind, value)
),
new_conv AS (
    INSERT INTO conversation (shop_id, customer_id, channel, channel_address, subject, status,
                              priority, last_activity_at, created_at, preview, message_count, tags,
                              waiting_since)
    SELECT %(shop_id)s, s.customer_id, %(channel)s, %(channel_address)s, %(subject)s, 'open',
           'normal', %(now)s, %(now)s, %(preview)s, 1, '',
           CASE WHEN %(quiet)s THEN NULL ELSE %(now)s END
    FROM starting s
    RETURNING id, customer_id
),
ins AS (
    INSERT INTO message (shop_id, conversation_id, direction, channel, author_customer_id, text,
                         html, external_id, created_at, full_text, raw_path, flags)
    SELECT %(shop_id)s, c.id, 'in', %(channel)s, c.customer_id, %(text)s,
           %(html)s, %(external_id)s, %(now)s, %(full_text)s, %(raw_path)s, %(flags)s
    FROM (SELECT id, customer_id FROM conv UNION ALL SELECT id, customer_id FROM new_conv) c
    RETURNING id, conversation_id, author_customer_id
),
job AS (
    INSERT INTO due_job (shop_id, kind, ref_id, due_at, next_attempt_at, payload, state, attempts, created_at)
    SELECT %(shop_id)s, %(job_kind)s, id, %(now)s, %(now)s, '{{}}', 'pending', 0, %(now)s FROM ins
),
upd AS (
    UPDATE conversation cv SET
        last_activity_at = %(now)s,
        preview = %(preview)s,
        message_count = cv.message_count + 1,
        waiting_since = CASE WHEN %(quiet)s THEN cv.waiting_since ELSE coalesce(cv.waiting_since, %(now)s) END,
        snoozed_until = CASE WHEN %(quiet)s OR cv.status = 'open' THEN cv.snoozed_until END,
        resolved_at = CASE WHEN %(quiet)s OR cv.status = 'open' THEN cv.resolved_at END,
        status = CASE WHEN %(quiet)s THEN cv.status ELSE 'open' END
    FROM conv WHERE cv.id = conv.id AND EXISTS (SELECT 1 FROM ins)
    RETURNING cv.id
)
SELECT (SELECT id FROM ins), (SELECT conversation_id FROM ins), (SELECT author_customer_id FROM ins),
       (SELECT id FROM dup), (SELECT conversation_id FROM dup), (SELECT customer_id FROM dup),
       (SELECT count(*) FROM upd) + (SELECT count(*) FROM new_conv)
"""  # noqa: S608


def try_store(
    session: Session, inbound: InboundMessage, *, text: str, html: str | None, preview: str, subject: str,
    now: dt.datetime, job_kind: str,
) -> Outcome | None:
    """The message stored, or the one it duplicates; None: nothing written, take the general path.

    `text`, `html`, `preview` and `subject` are the message's as ingest made them; a stored
    message gets a due job of `job_kind` about it (received.py), in the same statement."""
    refs = sorted({(ref.kind, ref.value) for ref in inbound.identities})
    params: dict[str, object] = {
        "shop_id": inbound.shop_id, "channel": inbound.channel, "external_id": inbound.external_id,
        "name": inbound.customer_name.strip()[:200], "subject": subject,
        "channel_address": inbound.channel_address, "text": text, "html": html, "now": now,
        "full_text": inbound.full_text, "raw_path": inbound.raw_path, "flags": " ".join(inbound.flags),
        "preview": preview, "quiet": inbound.quiet, "job_kind": job_kind,
        # E-mail starts a new conversation unless the mail answers an earlier one.
        "start_new": inbound.explicit_threading, "references": inbound.references[:MAX_REFERENCES],
    }
    for index, (kind, value) in enumerate(refs):
        params[f"kind{index}"] = kind
        params[f"value{index}"] = value
    row = session.connection().exec_driver_sql(_statement(len(refs)), params).one()
    message_id, conversation_id, customer_id, dup_id, dup_conversation_id, dup_customer_id, updated = row
    if dup_id is not None:
        return Outcome(dup_id, dup_conversation_id, dup_customer_id, created=False)
    if message_id is None:
        return None
    assert updated == 1, "a message was stored without its conversation being written"
    return Outcome(message_id, conversation_id, customer_id, created=True)
