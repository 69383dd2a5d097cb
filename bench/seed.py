"""Fill a migrated PostgreSQL schema with a big shop, fast: psycopg COPY, then ANALYZE.

The shop, its first agent and the API token come from the `balie` command (so they are
exactly what the product makes); customers, identities, conversations, tags and messages
are copied in, with the denormalised conversation columns (preview, message_count,
last_activity_at, waiting_since, first_response_at, tags) consistent with the messages.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from typing import Any

STATUS_WEIGHTS = {"open": 25, "pending": 15, "snoozed": 3, "resolved": 45, "closed": 12}
CHANNEL_WEIGHTS = {"email": 45, "chat": 25, "api": 10, "form": 5, "phone": 5, "social": 5, "whatsapp": 5}
PRIORITY_WEIGHTS = {"normal": 80, "high": 12, "low": 6, "urgent": 2}
TAGS = ["bezorging", "retour", "betaling", "klacht", "factuur", "maat", "kortingscode", "vip", "b2b", "spoed"]
FIRST = ["Anna", "Bram", "Chantal", "Daan", "Eva", "Fleur", "Gert", "Hanneke", "Ilse", "Jeroen", "Kees", "Lotte",
         "Mohamed", "Noor", "Pieter", "Sanne", "Thijs", "Yasmina", "Wout", "Zoë"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Peeters", "Maes",
        "Claes", "Janssens", "Willems", "Bos", "Vos", "Hendriks"]
CUSTOMER_TEXTS = [
    "Hallo, waar blijft mijn bestelling? Het is nu al vijf dagen geleden.",
    "Ik heb een jas besteld in maat M maar hij valt klein. Kan ik ruilen voor een L?",
    "Mijn pakket is beschadigd aangekomen, de doos was helemaal ingedeukt.",
    "Kunnen jullie de bezorging naar zaterdag verzetten? Doordeweeks ben ik niet thuis.",
    "Ik heb twee keer betaald voor dezelfde bestelling, graag het geld terug.",
    "De kortingscode WINTER10 wordt niet geaccepteerd bij het afrekenen.",
    "Bedankt voor de snelle hulp gisteren, alles is in orde!",
    "Is dit product ook in het blauw verkrijgbaar, en wanneer komt het weer binnen?",
    "The tracking link does not work, could you check where my parcel is?",
    "Graag een factuur op naam van mijn bedrijf met btw-nummer.",
    "Ik wil mijn bestelling annuleren, ik heb hem ergens anders goedkoper gevonden.",
    "De rits van de tas is na een week al kapot. Wat kunnen jullie daaraan doen?",
]
AGENT_TEXTS = [
    "Dank voor je bericht! Ik heb het even nagekeken: je pakket is onderweg en komt morgen.",
    "Wat vervelend om te horen. Ik stuur je een retourlabel, dan ruilen we hem kosteloos.",
    "Ik heb de bezorging voor je verzet naar zaterdag tussen 9 en 13 uur.",
    "De dubbele betaling is teruggestort, het kan 2 tot 3 werkdagen duren.",
    "Je krijgt van ons een tegoedbon van 10 euro voor het ongemak.",
    "Goed nieuws: het blauwe model is volgende week weer op voorraad.",
    "De factuur met je btw-nummer staat klaar in je account.",
    "Helaas kunnen we de bestelling niet meer annuleren, hij is al verzonden.",
]


def _weighted(rng: random.Random, weights: dict[str, int], n: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=n)


def _ts(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f+00")


def _preview(text: str, length: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def _row(*values: Any) -> str:
    # COPY text format; the generated values never contain tabs, newlines or backslashes.
    return "\t".join("\\N" if v is None else str(v) for v in values) + "\n"


class Copier:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.counts: dict[str, int] = {}

    def copy(self, table: str, columns: list[str], rows: Iterator[str], chunk: int = 20_000) -> None:
        sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        n = 0
        with self.conn.cursor() as cur, cur.copy(sql) as copy:
            buffer: list[str] = []
            for line in rows:
                buffer.append(line)
                if len(buffer) >= chunk:
                    copy.write("".join(buffer))
                    n += len(buffer)
                    buffer.clear()
            if buffer:
                copy.write("".join(buffer))
                n += len(buffer)
        self.counts[table] = self.counts.get(table, 0) + n


def seed(conn: Any, *, shop_id: int, conversations: int = 100_000, messages: int = 1_000_000,
         customers: int = 60_000, extra_agents: int = 4, seed_value: int = 42) -> dict[str, Any]:
    """`conn`: a psycopg connection whose search_path is the migrated schema (not autocommit)."""
    rng = random.Random(seed_value)
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    copier = Copier(conn)

    def next_id(table: str) -> int:
        row = conn.execute(f'select coalesce(max(id), 0) + 1 from "{table}"').fetchone()
        return int(row[0])

    agent_ids = [int(r[0]) for r in conn.execute(
        "select agent_id from membership where shop_id = %s order by agent_id", (shop_id,)).fetchall()]
    first_agent = next_id("agent")
    new_agents = list(range(first_agent, first_agent + extra_agents))
    copier.copy("agent", ["id", "email", "name", "password_hash", "language", "created_at"], (
        _row(a, f"agent{a}@bench.example", f"{rng.choice(FIRST)} {rng.choice(LAST)}", None, None, _ts(now))
        for a in new_agents))
    first_membership = next_id("membership")
    copier.copy("membership", ["id", "agent_id", "role", "created_at", "shop_id"], (
        _row(first_membership + i, a, "agent", _ts(now), shop_id) for i, a in enumerate(new_agents)))
    agent_ids += new_agents

    first_customer = next_id("customer")
    customer_ids = range(first_customer, first_customer + customers)

    def customer_rows() -> Iterator[str]:
        for c in customer_ids:
            name = "" if rng.random() < 0.1 else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            yield _row(c, name, None, _ts(now - dt.timedelta(days=rng.uniform(0, 400))), shop_id)

    copier.copy("customer", ["id", "name", "merged_into_id", "created_at", "shop_id"], customer_rows())

    first_identity = next_id("identity")

    def identity_rows() -> Iterator[str]:
        ident = first_identity
        for c in customer_ids:
            yield _row(ident, c, "email", f"klant{c}@example.nl", _ts(now), shop_id)
            ident += 1
            if c % 10 < 3:
                yield _row(ident, c, "phone", f"+3161{c:07d}", _ts(now), shop_id)
                ident += 1

    copier.copy("identity", ["id", "customer_id", "kind", "value", "created_at", "shop_id"], identity_rows())

    # How many messages each conversation has: 1..19, adjusted to the exact total.
    counts = [rng.randint(1, 19) for _ in range(conversations)]
    difference = messages - sum(counts)
    i = 0
    while difference != 0:
        step = 1 if difference > 0 else -1
        if 1 <= counts[i] + step <= 60:
            counts[i] += step
            difference -= step
        i = (i + 1) % conversations

    first_conversation = next_id("conversation")
    first_message = next_id("message")
    statuses = _weighted(rng, STATUS_WEIGHTS, conversations)
    channels = _weighted(rng, CHANNEL_WEIGHTS, conversations)
    priorities = _weighted(rng, PRIORITY_WEIGHTS, conversations)

    # One plan per conversation, so conversations (which the messages' foreign key needs first)
    # and their messages are generated in two streaming passes that agree with each other.
    plans = []
    message_id = first_message
    for index in range(conversations):
        status = statuses[index]
        recent_days = 14 if status in ("open", "pending", "snoozed") else 365
        plans.append((
            first_conversation + index, status, channels[index], counts[index], rng.choice(customer_ids),
            now - dt.timedelta(seconds=rng.uniform(60, recent_days * 86400)),  # last activity
            dt.timedelta(minutes=rng.uniform(3, 600)),  # gap between messages
            rng.choice(agent_ids) if rng.random() < 0.6 else None,  # assignee
            message_id,
        ))
        message_id += counts[index]

    def inbound(status: str, from_end: int) -> bool:
        # Open and snoozed conversations end with the customer (who waits); the rest with us.
        return (from_end % 2 == 0) == (status in ("open", "snoozed"))

    def text_of(message_id: int, is_inbound: bool) -> str:
        pool = CUSTOMER_TEXTS if is_inbound else AGENT_TEXTS
        return pool[(message_id * 7919) % len(pool)]

    def conversation_rows() -> Iterator[str]:
        for conversation_id, status, channel, k, customer_id, last, gap, assignee, first_id in plans:
            first_out = next((j for j in range(k) if not inbound(status, k - 1 - j)), None)
            first_text = text_of(first_id, inbound(status, k - 1))
            last_text = text_of(first_id + k - 1, inbound(status, 0))
            yield _row(
                conversation_id, customer_id, channel, _preview(first_text, 80), status,
                priorities[conversation_id - first_conversation], assignee, None,
                _ts(now + dt.timedelta(days=rng.uniform(1, 5))) if status == "snoozed" else None,
                _ts(last) if status == "open" else None,  # waiting_since
                _ts(last - gap * (k - 1 - first_out)) if first_out is not None else None,  # first_response_at
                _ts(last),
                _ts(last) if status in ("resolved", "closed") else None,
                _preview(last_text), k, " ".join(tags_of[conversation_id]), _ts(last - gap * (k - 1)), shop_id,
            )

    def message_rows() -> Iterator[str]:
        for conversation_id, status, channel, k, customer_id, last, gap, assignee, first_id in plans:
            for j in range(k):
                mid = first_id + j
                from_end = k - 1 - j
                when = _ts(last - gap * from_end)
                if inbound(status, from_end):
                    text = text_of(mid, True)
                    external = (f"<seed-{mid}@mail.example>" if channel == "email"
                                else f"seed-{mid}" if channel == "api" else None)
                    html = f"<p>{text}</p>" if channel == "email" else None
                    yield _row(mid, conversation_id, "in", channel, None, customer_id, text, html,
                               external, None, None, when, shop_id)
                else:
                    text = text_of(mid, False)
                    yield _row(mid, conversation_id, "out", channel, assignee or agent_ids[0], None, text,
                               f"<p>{text}</p>", None, "sent", None, when, shop_id)

    tags_of = {
        plan[0]: sorted(rng.sample(TAGS, rng.randint(1, 2))) if rng.random() < 0.3 else [] for plan in plans
    }
    first_tag = next_id("conversation_tag")

    def tag_rows() -> Iterator[str]:
        tag_id = first_tag
        for conversation_id, tags in tags_of.items():
            for tag in tags:
                yield _row(tag_id, conversation_id, tag, shop_id)
                tag_id += 1

    copier.copy("conversation", [
        "id", "customer_id", "channel", "subject", "status", "priority", "assignee_id", "team_id",
        "snoozed_until", "waiting_since", "first_response_at", "last_activity_at", "resolved_at",
        "preview", "message_count", "tags", "created_at", "shop_id"], conversation_rows())
    copier.copy("conversation_tag", ["id", "conversation_id", "tag", "shop_id"], tag_rows())
    copier.copy("message", [
        "id", "conversation_id", "direction", "channel", "author_agent_id", "author_customer_id", "text", "html",
        "external_id", "delivery_state", "delivery_error", "created_at", "shop_id"], message_rows())
    copied = time.perf_counter()

    for table in ("agent", "membership", "customer", "identity", "conversation", "conversation_tag", "message"):
        conn.execute(f"select setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                     f"(select coalesce(max(id), 1) from \"{table}\"))")
    conn.commit()
    conn.autocommit = True
    conn.execute("ANALYZE")
    conn.autocommit = False
    return {
        "rows": copier.counts,
        "copy_s": round(copied - started, 1),
        "total_s": round(time.perf_counter() - started, 1),
        "open_conversations": statuses.count("open"),
    }


HISTORY_CONVERSATIONS = 10_000
HISTORY_MESSAGES = 100_000


def history(db: Any, shop_id: int) -> dict[str, Any]:
    """A shop with a past, for the write benchmarks on PostgreSQL (`db`: a bench.server.Database).
    As in a running install, the tables then have rows and statistics, so PostgreSQL plans the
    statements for a real shop; on empty, never analysed tables it guesses, and guessed badly."""
    import psycopg

    from bench.server import plain_pg_url

    with psycopg.connect(plain_pg_url(), options=f"-csearch_path={db.schema}") as conn:
        seeded = seed(conn, shop_id=shop_id, conversations=HISTORY_CONVERSATIONS, messages=HISTORY_MESSAGES,
                      customers=HISTORY_CONVERSATIONS * 6 // 10)
    return {"conversations": seeded["rows"]["conversation"], "messages": seeded["rows"]["message"],
            "seed_s": seeded["total_s"]}
