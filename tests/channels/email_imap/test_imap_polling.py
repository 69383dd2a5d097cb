"""Mail in by IMAP polling against a real Dovecot: taken in once and only once, across polls,
restarts and a recreated folder; failures back off and clear; nothing blocks the mailbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import signal
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from dovecot_support import Dovecot, dovecot, free_port
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from balie import cli, clock
from balie.channels.email import imap, polling
from balie.channels.email import service as mailbox_service
from balie.channels.email.models import Mailbox
from balie.config import Settings
from balie.conversations.models import Message
from balie.errors import Invalid
from factories import Tenant

SUPPORT = "support@fietsen.example"


@pytest.fixture(scope="module")
def imap_server() -> Iterator[Dovecot]:
    with dovecot() as running:  # one server for the module: stopping one costs a second
        yield running


@pytest.fixture
def server(imap_server: Dovecot) -> Dovecot:
    imap_server.empty()
    return imap_server


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every UID whose body was fetched (UID FETCH ... BODY.PEEK[])."""
    uids: list[int] = []
    original = imap.Folder.fetch

    def spy(self: imap.Folder, uid: int) -> bytes | None:
        uids.append(uid)
        return original(self, uid)

    monkeypatch.setattr(imap.Folder, "fetch", spy)
    return uids


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every raw mail handed to inbound.receive."""
    raws: list[bytes] = []
    original = polling.receive

    def spy(session: Session, **kwargs: Any) -> Any:
        raws.append(kwargs["raw"])
        return original(session, **kwargs)

    monkeypatch.setattr(polling, "receive", spy)
    return raws


def add_mailbox(factory: sessionmaker[Session], tenant: Tenant, url: str) -> int:
    with factory() as session, session.begin():
        return mailbox_service.create(session, shop_id=tenant.shop_id, address=SUPPORT, display_name="Fietsen",
                                      imap_url=url).id


def mailbox(factory: sessionmaker[Session], mailbox_id: int) -> Mailbox:
    with factory() as session:
        return session.get_one(Mailbox, mailbox_id)


def change(factory: sessionmaker[Session], mailbox_id: int, **values: Any) -> None:
    with factory() as session, session.begin():
        session.execute(update(Mailbox).where(Mailbox.id == mailbox_id).values(**values))


def message_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def poller(app: FastAPI, *, timeout: float = 5.0, **settings: Any) -> polling.Poller:
    context = app.state.context
    return polling.Poller(context.factory, context.store, context.limiter,
                          dataclasses.replace(context.settings, **settings), context.ingest_lock, timeout=timeout)


def mail(subject: str = "Mijn bestelling", body: str = "Waar blijft mijn fiets?", *,
         sender: str = "Klaas Klant <klant@example.nl>", message_id: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="klant.example")
    message.set_content(body)
    return message.as_bytes()


def conversations(client: TestClient, tenant: Tenant) -> list[dict[str, Any]]:
    return client.get("/api/v1/conversations?status=all&channel=email", headers=tenant.headers).json()["items"]


def detail(client: TestClient, tenant: Tenant, conversation_id: object) -> dict[str, Any]:
    return client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()  # type: ignore[no-any-return]


def test_new_mail_becomes_conversations_and_stays_unread_on_the_server(
    app: FastAPI, client: TestClient, tenant: Tenant, factory: sessionmaker[Session], server: Dovecot,
    frozen_clock: clock.FrozenClock,
) -> None:
    mailbox_id = add_mailbox(factory, tenant, server.url)
    first = mail("Levering #1042", "Mijn fiets is nog niet geleverd.")
    server.append(first, when=frozen_clock.current)
    last = server.append(mail("Retour", "Hoe stuur ik hem terug?"), when=frozen_clock.current)
    assert app.state.worker.run_once() >= 1
    items = conversations(client, tenant)
    assert sorted(item["subject"] for item in items) == ["Levering #1042", "Retour"]
    item = next(item for item in items if item["subject"] == "Levering #1042")
    assert item["customer_name"] == "Klaas Klant"
    (message,) = detail(client, tenant, item["id"])["messages"]
    assert message["text"] == "Mijn fiets is nog niet geleverd." and message["direction"] == "in"
    raw = client.get(message["raw_url"], headers=tenant.headers)
    assert raw.status_code == 200 and raw.content.replace(b"\r\n", b"\n") == first.replace(b"\r\n", b"\n")
    assert server.seen() == [False, False]  # BODY.PEEK on a read-only folder: still unread for the team
    state = polling.status(mailbox(factory, mailbox_id))
    assert state["state"] == "ok" and state["last_uid"] == last and state["error"] is None
    assert state["next_poll_at"] == frozen_clock.current + polling.POLL_INTERVAL


def test_a_second_poll_fetches_nothing_and_a_later_mail_alone(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
    fetched: list[int], received: list[bytes],
) -> None:
    add_mailbox(factory, tenant, server.url)
    uids = [server.append(mail(f"Vraag {n}"), when=frozen_clock.current) for n in range(3)]
    app.state.worker.run_once()
    assert fetched == uids and len(received) == 3
    # The next pass runs what follows each stored mail (received.py), and does not ask the
    # server: its next poll is not due yet.
    assert app.state.worker.run_once() == 3
    assert fetched == uids
    frozen_clock.advance(seconds=61)
    assert app.state.worker.run_once() == 1  # polled...
    assert fetched == uids and len(received) == 3  # ...and nothing fetched again
    later = server.append(mail("Nog een vraag"), when=frozen_clock.current)
    frozen_clock.advance(seconds=61)
    app.state.worker.run_once()
    assert fetched == [*uids, later] and len(received) == 4
    assert message_count(factory) == 4


def test_progress_survives_a_restart(
    app: FastAPI, settings: Settings, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot,
    frozen_clock: clock.FrozenClock, fetched: list[int],
) -> None:
    from balie.app import create_app

    add_mailbox(factory, tenant, server.url)
    before = [server.append(mail(f"Voor {n}"), when=frozen_clock.current) for n in range(2)]
    app.state.worker.run_once()
    after = server.append(mail("Na de herstart"), when=frozen_clock.current)
    frozen_clock.advance(seconds=61)
    restarted = create_app(settings, run_worker=False)  # a new process on the same database
    try:
        assert restarted.state.worker.run_once() >= 1
    finally:
        restarted.state.context.engine.dispose()
    assert fetched == [*before, after]
    assert message_count(factory) == 3


def test_a_recreated_folder_yields_only_its_new_mail(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
    fetched: list[int],
) -> None:
    mailbox_id = add_mailbox(factory, tenant, server.url)
    old = [server.append(mail(f"Oud {n}"), when=frozen_clock.current) for n in range(2)]
    app.state.worker.run_once()
    server.set_uidvalidity(4242)  # the UIDs we remember mean nothing now
    new = server.append(mail("Nieuw"), when=frozen_clock.current)
    frozen_clock.advance(seconds=61)
    app.state.worker.run_once()
    # The recent mail was looked at again, but only by Message-ID: the old bodies were not fetched.
    assert fetched == [*old, new] and message_count(factory) == 3
    state = polling.status(mailbox(factory, mailbox_id))
    assert (state["uidvalidity"], state["last_uid"], state["state"]) == (4242, new, "ok")
    server.set_uidvalidity(4_000_000_000)  # legal (unsigned 32-bit), beyond a signed INTEGER column
    frozen_clock.advance(seconds=61)
    app.state.worker.run_once()
    assert fetched == [*old, new] and message_count(factory) == 3
    assert polling.status(mailbox(factory, mailbox_id))["uidvalidity"] == 4_000_000_000
    frozen_clock.advance(seconds=61)
    app.state.worker.run_once()
    assert fetched == [*old, new] and polling.status(mailbox(factory, mailbox_id))["error"] is None


def test_a_first_poll_leaves_older_mail_alone(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
    fetched: list[int],
) -> None:
    mailbox_id = add_mailbox(factory, tenant, server.url)
    server.append(mail("Van vorige maand"), when=frozen_clock.current - dt.timedelta(days=30))
    recent = server.append(mail("Van gisteren"), when=frozen_clock.current - dt.timedelta(days=1))
    app.state.worker.run_once()
    assert fetched == [recent] and message_count(factory) == 1
    assert mailbox(factory, mailbox_id).imap_last_uid == recent


def test_a_wrong_password_is_a_failure_until_it_is_fixed(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
) -> None:
    mailbox_id = add_mailbox(factory, tenant, f"imap://alice:Geheim-123@{server.host}:{server.port}/INBOX")
    server.append(mail("Wacht op mij"), when=frozen_clock.current)
    app.state.worker.run_once()
    state = polling.status(mailbox(factory, mailbox_id))
    assert state["state"] == "failing" and state["failures"] == 1
    assert state["error"].startswith("login refused for alice") and "Geheim-123" not in state["error"]
    assert state["next_poll_at"] == frozen_clock.current + dt.timedelta(minutes=1)
    assert app.state.worker.run_once() == 0  # backing off
    change(factory, mailbox_id, imap_password="secret")  # the admin types the right one
    frozen_clock.advance(minutes=1)
    app.state.worker.run_once()
    state = polling.status(mailbox(factory, mailbox_id))
    assert (state["state"], state["failures"], state["error"]) == ("ok", 0, None)
    assert message_count(factory) == 1


def test_an_unreachable_server_backs_off_exponentially_and_recovers(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
) -> None:
    closed = free_port()
    mailbox_id = add_mailbox(factory, tenant, f"imap://alice:secret@127.0.0.1:{closed}/INBOX")
    server.append(mail("Kom je nog?"), when=frozen_clock.current)
    for failures, wait in ((1, 1), (2, 2), (3, 4)):
        assert app.state.worker.run_once() == 1
        row = mailbox(factory, mailbox_id)
        assert row.imap_failures == failures
        assert row.imap_error == f"connection to 127.0.0.1:{closed} refused"
        assert row.imap_next_poll_at == frozen_clock.current + dt.timedelta(minutes=wait)
        frozen_clock.advance(minutes=wait, seconds=-1)
        assert app.state.worker.run_once() == 0  # not a second early
        frozen_clock.advance(seconds=1)
    change(factory, mailbox_id, imap_port=server.port)
    app.state.worker.run_once()
    row = mailbox(factory, mailbox_id)
    assert (row.imap_failures, row.imap_error, message_count(factory)) == (0, None, 1)
    assert [polling.backoff(n).total_seconds() for n in (1, 2, 3, 6, 7, 30)] == [60, 120, 240, 1920, 3600, 3600]


def test_a_server_inside_our_own_network_is_not_polled_unless_allowed(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
    fetched: list[int],
) -> None:
    mailbox_id = add_mailbox(factory, tenant, server.url)  # saved from the command line: not checked then
    server.append(mail("Via loopback"), when=frozen_clock.current)
    (result,) = polling.poll_due(poller(app, webhook_allow_private=False))
    assert result.error == "IMAP server not polled: the host 127.0.0.1 is an internal address (127.0.0.1)"
    assert fetched == [] and mailbox(factory, mailbox_id).imap_failures == 1


def test_a_server_that_never_answers_times_out(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, frozen_clock: clock.FrozenClock,
) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        mailbox_id = add_mailbox(factory, tenant, f"imap://alice:secret@127.0.0.1:{port}/INBOX")
        (result,) = polling.poll_due(poller(app, timeout=0.3))
    assert result.error == f"127.0.0.1:{port} did not answer in time (connect)"
    assert mailbox(factory, mailbox_id).imap_failures == 1


def test_oversized_mail_is_skipped_without_blocking_the_rest(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
    fetched: list[int], caplog: pytest.LogCaptureFixture,
) -> None:
    mailbox_id = add_mailbox(factory, tenant, server.url)
    small = server.append(mail("Klein"), when=frozen_clock.current)
    big = server.append(mail("Groot", "x" * 200_000), when=frozen_clock.current)
    after = server.append(mail("Erna"), when=frozen_clock.current)
    with caplog.at_level(logging.WARNING, logger="balie.channels.email.polling"):
        (result,) = polling.poll_due(poller(app, mail_max_bytes=100_000))
    assert (result.stored, result.skipped, result.error) == (2, 1, None)
    assert fetched == [small, after]  # the size was read first; the big one was never downloaded
    assert f"UID {big} skipped" in caplog.text and "over BALIE_MAIL_MAX_BYTES (100000)" in caplog.text
    assert mailbox(factory, mailbox_id).imap_last_uid == after
    frozen_clock.advance(seconds=61)
    (again,) = polling.poll_due(poller(app, mail_max_bytes=100_000))
    assert (again.stored, again.skipped) == (0, 0) and fetched == [small, after]


def test_one_message_id_in_two_uids_is_one_message(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
    fetched: list[int],
) -> None:
    add_mailbox(factory, tenant, server.url)
    twice = mail("Dubbel", message_id="<dubbel-1@klant.example>")
    first = server.append(twice, when=frozen_clock.current)
    server.append(twice, when=frozen_clock.current)  # a copy filed back into the INBOX
    app.state.worker.run_once()
    server.append(twice, when=frozen_clock.current)
    frozen_clock.advance(seconds=61)
    app.state.worker.run_once()
    assert fetched == [first] and message_count(factory) == 1


@pytest.mark.parametrize("raw", [
    b"this is not a mail at all \xff\xfe garbage\r\n",
    b"From: klant@example.nl\r\nSubject: =?utf-8?B?broken\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
])
def test_malformed_mail_is_stored_flagged(
    app: FastAPI, client: TestClient, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot,
    frozen_clock: clock.FrozenClock, raw: bytes,
) -> None:
    add_mailbox(factory, tenant, server.url)
    server.append(raw, when=frozen_clock.current)
    app.state.worker.run_once()
    (item,) = conversations(client, tenant)
    (message,) = detail(client, tenant, item["id"])["messages"]
    assert message["text"] and message["raw_url"]
    stored = client.get(message["raw_url"], headers=tenant.headers).content
    assert stored.replace(b"\r\n", b"\n").startswith(raw.replace(b"\r\n", b"\n")[:20])
    if raw.startswith(b"this"):
        assert "unparsable" in message["flags"]


def test_a_backlog_is_taken_in_batches_in_uid_order(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
    fetched: list[int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(polling, "BATCH_SIZE", 2)
    mailbox_id = add_mailbox(factory, tenant, server.url)
    uids = [server.append(mail(f"Achterstand {n}"), when=frozen_clock.current) for n in range(5)]
    app.state.worker.run_once()
    assert fetched == uids[:2]
    assert mailbox(factory, mailbox_id).imap_next_poll_at == frozen_clock.current  # more waiting: due at once
    app.state.worker.run_once()
    app.state.worker.run_once()
    assert fetched == uids and message_count(factory) == 5
    assert mailbox(factory, mailbox_id).imap_next_poll_at == frozen_clock.current + polling.POLL_INTERVAL


def test_a_failure_while_storing_keeps_what_was_committed(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
    fetched: list[int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailbox_id = add_mailbox(factory, tenant, server.url)
    uids = [server.append(mail(f"Mail {n}"), when=frozen_clock.current) for n in range(3)]
    original, calls = polling.receive, []

    def flaky(session: Session, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(session, **kwargs)

    monkeypatch.setattr(polling, "receive", flaky)
    app.state.worker.run_once()
    row = mailbox(factory, mailbox_id)
    assert (row.imap_last_uid, row.imap_failures, message_count(factory)) == (uids[0], 1, 1)
    assert row.imap_error == "storing mail failed (RuntimeError); retrying"
    frozen_clock.advance(minutes=1)
    app.state.worker.run_once()
    assert fetched == [uids[0], uids[1], uids[1], uids[2]]  # only the mail in flight came again
    assert message_count(factory) == 3 and mailbox(factory, mailbox_id).imap_failures == 0


def test_a_mailbox_is_polled_by_one_worker_at_a_time(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
) -> None:
    add_mailbox(factory, tenant, server.url)
    server.append(mail("Eén keer"), when=frozen_clock.current)
    with factory() as session, session.begin():
        (stale,) = polling._claim(session, 4)
    with factory() as session, session.begin():
        assert polling._claim(session, 4) == []  # leased to the first worker
    frozen_clock.advance(seconds=polling.LEASE.total_seconds() + 1)  # ...which hangs past its lease
    with factory() as session, session.begin():
        (taken_over,) = polling._claim(session, 4)
    late = polling.poll(poller(app), stale)
    assert late.error == "claim lost" and late.stored == 0  # its write is refused, its mail rolled back
    assert polling.poll(poller(app), taken_over).stored == 1
    assert message_count(factory) == 1


def test_folder_names_are_encoded_for_the_wire(server: Dovecot) -> None:
    assert imap.encode_folder("INBOX") == '"INBOX"'
    assert imap.encode_folder("Entwürfe & \"Klad\"") == '"Entw&APw-rfe &- \\"Klad\\""'
    name = "Klantvragen & Retouren – Ü"
    with server.client() as client:
        client.create(imap.encode_folder(name))
    try:
        server.append(mail("In een map"), folder=imap.encode_folder(name))
        account = imap.Account(server.host, server.port, "none", server.user, server.password, name)
        with imap.open_folder(account, timeout=5) as folder:
            (uid,) = folder.uids_after(0)
            assert b"In een map" in (folder.fetch(uid) or b"")
    finally:
        with server.client() as client:
            client.delete(imap.encode_folder(name))


@pytest.mark.parametrize(("security", "account", "expected"), [
    ("starttls", {}, "does not offer STARTTLS"),
    ("tls", {}, "TLS with 127.0.0.1:"),
    ("none", {"folder": "Bestaat Niet"}, "folder 'Bestaat Niet' cannot be opened"),
    ("none", {"host": "imap.does-not-exist.invalid"}, "host 'imap.does-not-exist.invalid' not found"),
])
def test_errors_say_what_is_wrong(server: Dovecot, security: str, account: dict[str, str], expected: str) -> None:
    settings = {"host": server.host, "port": server.port, "security": security, "user": server.user,
                "password": server.password, "folder": "INBOX", **account}
    with pytest.raises(imap.ImapFailure) as failure, imap.open_folder(imap.Account(**settings), timeout=5):
        pass
    assert expected in str(failure.value) and server.password not in str(failure.value)


def test_balie_worker_polls_a_mailbox_added_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, factory: sessionmaker[Session],
    server: Dovecot, frozen_clock: clock.FrozenClock, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BALIE_DATABASE_URL", database_url)
    monkeypatch.setenv("BALIE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BALIE_WEBHOOK_ALLOW_PRIVATE", "1")  # the test's IMAP server is on loopback
    monkeypatch.setattr(signal, "signal", lambda *_args: None)  # keep pytest's own Ctrl-C handling
    assert cli.main(["shop", "add", "Fietsen & Zo"]) == 0
    assert cli.main(["mailbox", "add", SUPPORT, "--shop", "Fietsen & Zo", "--imap", server.url]) == 0
    assert capsys.readouterr().out.strip().endswith(" imap")
    server.append(mail("Via de worker"), when=frozen_clock.current)
    assert cli.main(["worker", "--once"]) == 0
    assert message_count(factory) == 1


def test_mailboxes_of_two_shops_are_polled_side_by_side(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, other_tenant: Tenant, server: Dovecot,
    frozen_clock: clock.FrozenClock,
) -> None:
    ours = add_mailbox(factory, tenant, server.url)
    with factory() as session, session.begin():  # another shop that happens to read the same account
        theirs = mailbox_service.create(session, shop_id=other_tenant.shop_id, address="info@andere.example",
                                        imap_url=server.url).id
    server.append(mail("Voor allebei"), when=frozen_clock.current)
    results = polling.poll_due(poller(app))
    assert sorted((r.mailbox_id, r.stored, r.error) for r in results) == [(ours, 1, None), (theirs, 1, None)]
    with factory() as session:
        shops = session.scalars(select(Message.shop_id).order_by(Message.shop_id)).all()
    assert shops == sorted([tenant.shop_id, other_tenant.shop_id])


def test_a_mail_that_cannot_be_stored_is_skipped_not_retried_forever(
    app: FastAPI, factory: sessionmaker[Session], tenant: Tenant, server: Dovecot, frozen_clock: clock.FrozenClock,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    mailbox_id = add_mailbox(factory, tenant, server.url)
    refused = server.append(mail("Geweigerd"), when=frozen_clock.current)
    last = server.append(mail("Daarna"), when=frozen_clock.current)
    original = polling.receive

    def picky(session: Session, **kwargs: Any) -> Any:
        if b"Geweigerd" in kwargs["raw"]:  # what ingest does with content it will never take
            raise Invalid("external_id contains a control or invalid character", code="invalid_text")
        return original(session, **kwargs)

    monkeypatch.setattr(polling, "receive", picky)
    with caplog.at_level(logging.ERROR, logger="balie.channels.email.polling"):
        (result,) = polling.poll_due(poller(app))
    assert (result.error, result.skipped, result.stored) == (None, 1, 1)
    assert f"UID {refused} skipped, it cannot be stored: external_id contains a control" in caplog.text
    row = mailbox(factory, mailbox_id)
    assert (row.imap_last_uid, row.imap_failures, message_count(factory)) == (last, 0, 1)
