"""Conformance through the wire: every mail of the shared corpus sent to the SMTP receiver is
accepted and stored, and Zammad's from/subject/body expectations hold for what was stored.

    .venv/bin/pytest tests/channels/email_in/test_smtp_corpus.py -q -s   # prints the figures
"""

from __future__ import annotations

import importlib.util
import re
import smtplib
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from mail_support import SUPPORT, add_mailbox, smtp_receiver
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from balie.channels.email.parse import parse
from balie.conversations.models import Conversation, Message
from balie.customers.models import Identity
from factories import Tenant

_corpus_test = Path(__file__).parents[1] / "email" / "test_email_corpus.py"
sys.path.insert(0, str(_corpus_test.parent))  # it imports its neighbour email_samples
_spec = importlib.util.spec_from_file_location("email_corpus_expectations", _corpus_test)
assert _spec is not None and _spec.loader is not None
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)


UNEXPECTED: list[str] = []


def report(path: Path, field: str, ok: bool, ours: object, expected: object) -> None:
    """Prints a mismatch; one that is not a known, deliberate difference fails the test."""
    if not ok:
        known = corpus.KNOWN_DIFFERENCES.get((path.stem, field))
        print(f"  {path.stem} {field}: " + (f"known: {known}" if known else f"ours {ours!r} expected {expected!r}"))
        if not known:
            UNEXPECTED.append(f"{path.stem} {field}")


@pytest.mark.skipif(not corpus.MAILS, reason=f"mail corpus not found at {corpus.CORPUS}")
def test_every_corpus_mail_is_accepted_and_stored(app: FastAPI, factory: sessionmaker[Session],
                                                  tenant: Tenant) -> None:
    add_mailbox(factory, tenant)
    UNEXPECTED.clear()
    accepted, refused, seen = 0, [], set()
    matched: Counter[str] = Counter()
    asserted: Counter[str] = Counter()
    with smtp_receiver(app) as smtp, smtplib.SMTP(smtp.host, smtp.port, timeout=60) as client:
        for path in corpus.MAILS:
            raw = path.read_bytes()
            try:
                # On the wire lines end in CRLF (smtplib sends bytes as they are, as an MTA would not).
                client.sendmail("corpus@example.test", [SUPPORT], re.sub(rb"\r?\n", b"\r\n", raw))
            except smtplib.SMTPException as error:
                refused.append(f"{path.name}: {error}")
                continue
            accepted += 1
            message_id = parse(raw).message_id
            duplicate = message_id in seen
            seen.add(message_id)
            yml = path.with_suffix(".yml")
            if path.suffix != ".box" or not yml.exists():
                continue
            if duplicate:  # the same Message-ID again is the same message: nothing new to compare
                print(f"  {path.stem}: deduplicated (its Message-ID was already received)")
                continue
            expectation = yaml.load(yml.read_text(encoding="utf-8"), Loader=corpus._RubyTolerantLoader)
            with factory() as session:
                message = session.scalars(select(Message).where(Message.external_id == message_id)).one()
                first = session.scalars(select(Message.id).where(
                    Message.conversation_id == message.conversation_id).order_by(Message.id).limit(1)).one()
                conversation = session.get_one(Conversation, message.conversation_id)
                emails = set(session.scalars(select(Identity.value).where(
                    Identity.customer_id == conversation.customer_id, Identity.kind == "email")))
            if "from_email" in expectation or "from" in expectation:
                asserted["from"] += 1
                ok = str(expectation.get("from_email") or expectation["from"]).lower() in emails
                matched["from"] += ok
                report(path, "from", ok, emails, expectation.get("from_email") or expectation["from"])
            if "subject" in expectation and first == message.id:  # a reply keeps its conversation's subject
                asserted["subject"] += 1
                expected_subject = corpus._normalise(str(expectation["subject"])) or "(no subject)"
                ok = corpus._normalise(conversation.subject) == expected_subject[:500]
                matched["subject"] += ok
                report(path, "subject", ok, conversation.subject, expected_subject)
            if "body" in expectation:
                asserted["body"] += 1
                ours = corpus._normalise(message.full_text or "")
                ok = ours == corpus._normalise(corpus._expected_body(expectation))
                matched["body"] += ok
                expected_body = corpus._normalise(corpus._expected_body(expectation))
                at = next((i for i, (x, y) in enumerate(zip(ours, expected_body, strict=False)) if x != y), 0)
                report(path, "body", ok, ours[max(0, at - 30):at + 50], expected_body[max(0, at - 30):at + 50])
    total = sum(asserted.values())
    print(f"\nSMTP corpus: {accepted}/{len(corpus.MAILS)} accepted and stored")
    for field in corpus.FIELDS:
        print(f"  {field:8} {matched[field]:3}/{asserted[field]:3} matched")
    print(f"  {'all':8} {sum(matched.values()):3}/{total:3} ({100 * sum(matched.values()) / max(total, 1):.1f} %)")
    assert refused == [], refused
    assert UNEXPECTED == [], UNEXPECTED  # every mismatch is one of the deliberate differences
