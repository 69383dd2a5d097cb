"""The built-in SMTP receiver: takes mail for the shops' support addresses on a loopback or
public port and answers 250 only once the mail is committed.

Unknown recipients get 550 at RCPT; mail over the size limit gets 552 (aiosmtpd enforces
the SIZE it announces); a failure while storing gets 451, so the sender tries again
(and the Message-ID makes the retry a duplicate, not a second message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine, Iterator
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy.orm import Session, sessionmaker

from balie.channels.email import service as mailbox_service
from balie.channels.email.inbound import Received, receive, receive_unreadable
from balie.config import Settings
from balie.db import transaction
from balie.errors import BalieError
from balie.ratelimit import Limiter
from balie.storage import FileStore

log = logging.getLogger(__name__)

REMEMBER_SECONDS = 30.0
MAX_REMEMBERED = 10_000


def parse_listen(value: str) -> tuple[str, int] | None:
    """"127.0.0.1:2525" → ("127.0.0.1", 2525); "" or "off" → None."""
    value = value.strip()
    if not value or value.lower() in ("off", "no", "0"):
        return None
    host, _, port = value.rpartition(":")
    if not host or not port.isdecimal() or not 0 < int(port) < 65536:
        raise SystemExit(f"BALIE_SMTP_LISTEN must look like 127.0.0.1:2525, got {value!r}")
    return host.strip("[]"), int(port)


class Handler:
    def __init__(self, factory: sessionmaker[Session], store: FileStore, limiter: Limiter, settings: Settings,
                 ingest_lock: contextlib.AbstractContextManager[object] | None = None) -> None:
        self.factory = factory
        self.store = store
        self.limiter = limiter
        self.settings = settings
        self.ingest_lock = ingest_lock or contextlib.nullcontext()
        # Support addresses seen to exist, and until when that is believed without asking the
        # database again (RCPT comes with every mail). Only known ones are remembered: an
        # address added a moment ago must never be refused. One removed meanwhile is caught
        # at DATA, where the mail is stored, and refused there.
        self._known_until: dict[str, float] = {}

    def _remembered(self, address: str) -> bool:
        return self._known_until.get(address, 0.0) > time.monotonic()

    def _look_up(self, address: str) -> bool:
        with self.factory() as session:
            known = mailbox_service.recipient(session, address) is not None
        if known:
            if len(self._known_until) >= MAX_REMEMBERED:
                self._known_until.clear()
            self._known_until[address] = time.monotonic() + REMEMBER_SECONDS
        return known

    async def handle_RCPT(self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        address = address.strip().lower()
        try:
            known = self._remembered(address) or await asyncio.to_thread(self._look_up, address)
        except Exception:
            log.exception("looking up recipient %s failed", address)
            return "451 4.3.0 Temporary failure, please try again later"
        if not known:
            return f"550 5.1.1 <{address}>: no such support address here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw or "").encode("utf-8", "surrogateescape")
        sender = envelope.mail_from if isinstance(envelope.mail_from, str) else None
        try:
            results = await asyncio.to_thread(self.store_mail, data, list(envelope.rcpt_tos), sender)
        except Exception:
            log.exception("storing a mail for %s failed", envelope.rcpt_tos)
            return "451 4.3.0 Could not store the message, please try again later"
        if not results:  # every recipient's support address was removed since RCPT
            return "550 5.1.1 No such support address here (any more)"
        log.info("mail from %s for %s: %s", sender, envelope.rcpt_tos, [r.outcome for r in results])
        return "250 2.0.0 OK: stored"

    def store_mail(self, raw: bytes, recipients: list[str], envelope_from: str | None) -> list[Received]:
        """Each support address among the recipients gets the mail once, committed on its own."""
        results: list[Received] = []
        seen: set[int] = set()
        for address in recipients:
            try:
                with self.ingest_lock, transaction(self.factory) as session:
                    mailbox = mailbox_service.recipient(session, address)
                    if mailbox is None or mailbox.id in seen:
                        continue
                    seen.add(mailbox.id)
                    results.append(receive(session, mailbox=mailbox, raw=raw, store=self.store,
                                           limiter=self.limiter, hold_per_hour=self.settings.mail_hold_per_hour,
                                           envelope_from=envelope_from))
            except BalieError as refused:  # would be refused again on every retry: keep it flagged instead
                log.warning("mail for %s refused as stored (%s); keeping it as unreadable", address, refused)
                with self.ingest_lock, transaction(self.factory) as session:
                    mailbox = mailbox_service.recipient(session, address)
                    if mailbox is not None:
                        results.append(receive_unreadable(session, mailbox=mailbox, raw=raw, store=self.store,
                                                          reason=refused.detail))
        return results


class _TolerantSMTP(SMTP):
    # RFC 5321 caps a line at 1000 octets, but real mail (HTML from webmail, Lotus Notes)
    # breaks that often; refusing it would lose customers' mail. Memory stays bounded by
    # this and by the total size limit.
    line_length_limit = 1024 * 1024


class _Controller(Controller):
    """aiosmtpd's threaded controller; with `shared_port`, several processes listen on one port
    (SO_REUSEPORT: the kernel spreads the connections over them)."""

    def __init__(self, handler: Handler, *, shared_port: bool = False, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.shared_port = shared_port

    def factory(self) -> SMTP:
        return _TolerantSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Coroutine[Any, Any, asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port,
                                       reuse_port=self.shared_port or None)

    def _trigger_server(self) -> None:
        if not self.shared_port:
            super()._trigger_server()  # type: ignore[no-untyped-call]
            return
        # aiosmtpd checks that the server works by connecting to it; on a shared port that
        # connection may reach another process. Build the protocol here as a connection would.
        async def invoke() -> None:
            self._factory_invoker()

        asyncio.run_coroutine_threadsafe(invoke(), self.loop).result(self.ready_timeout)


def controller(handler: Handler, host: str, port: int, *, max_bytes: int, shared_port: bool = False) -> Controller:
    kwargs: dict[str, Any] = {"data_size_limit": max_bytes, "enable_SMTPUTF8": True, "ident": "Balie ESMTP",
                              "timeout": 60}
    return _Controller(handler, hostname=host, port=port, server_hostname="balie", shared_port=shared_port,
                       **kwargs)


@contextlib.contextmanager
def running(handler: Handler, listen: tuple[str, int] | None, *, max_bytes: int,
            shared_port: bool = False) -> Iterator[Controller | None]:
    """The receiver for the life of the block; a port that is taken is logged, not fatal,
    so that the web side still starts (mail then waits at the sender, which retries).
    `shared_port`: this process is one of several `balie serve --workers` receiving on it."""
    if listen is None:
        yield None
        return
    smtp = controller(handler, *listen, max_bytes=max_bytes, shared_port=shared_port)
    try:
        smtp.start()
    except (OSError, RuntimeError) as error:
        log.error("SMTP receiver could not listen on %s:%s: %s", *listen, error)
        yield None
        return
    log.info("SMTP receiver listening on %s:%s", *listen)
    try:
        yield smtp
    finally:
        smtp.stop()

