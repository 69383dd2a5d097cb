"""IMAP polling of existing mailboxes: claim the mailboxes that are due, take in their new mail
once and only once, and record progress, or a failure with backoff, in the mailbox row.

Once and only once: the row holds the folder's UIDVALIDITY and the highest UID taken in.
Each mail is stored in its own transaction together with that UID, so a crash loses nothing
and repeats at most the mail in flight (which the Message-ID dedupe then drops). A changed
UIDVALIDITY means the folder was recreated: we start over from a new UID (see _start_over).
A mailbox is polled by one worker at a time: the claim is a lease in `imap_locked_until`,
and every write checks that the lease is still ours.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker

from balie import clock, netguard
from balie.channels.email import headers, imap
from balie.channels.email.inbound import receive
from balie.channels.email.models import Mailbox
from balie.config import Settings
from balie.conversations.models import Message
from balie.db import transaction
from balie.errors import BalieError
from balie.ratelimit import Limiter
from balie.storage import FileStore

log = logging.getLogger(__name__)

POLL_INTERVAL = dt.timedelta(seconds=60)
LEASE = dt.timedelta(minutes=10)  # renewed with every mail taken in
BATCH_SIZE = 50  # mails per poll; a fuller folder is due again at once, after the other mailboxes
LOOKBACK = dt.timedelta(days=7)  # what a first poll, or one after a UIDVALIDITY change, considers
BASE_BACKOFF = 60.0
MAX_BACKOFF = 3600.0
PARALLEL = 4  # mailboxes polled side by side in one pass (servers answer slowly, not the database)
_INT32 = 2**32  # UIDVALIDITY and UIDs are unsigned 32-bit; the columns are signed INTEGER


@dataclass(frozen=True)
class Poller:
    """What polling needs from the running process."""

    factory: sessionmaker[Session]
    store: FileStore
    limiter: Limiter
    settings: Settings
    ingest_lock: contextlib.AbstractContextManager[Any] = field(default_factory=contextlib.nullcontext)
    timeout: float = imap.SOCKET_TIMEOUT


@dataclass(frozen=True)
class PollResult:
    mailbox_id: int
    stored: int = 0
    skipped: int = 0
    error: str | None = None


@dataclass
class _Claim:
    """One mailbox, ours until `lease`; `uidvalidity`/`last_uid` is the progress written so far."""

    mailbox_id: int
    account: imap.Account
    failures: int
    lease: dt.datetime
    uidvalidity: int | None
    last_uid: int
    stored: int = 0
    skipped: int = 0
    more: bool = False


class LostClaim(Exception):
    """Our lease ran out and another worker took the mailbox, or its IMAP settings changed."""


def backoff(failures: int) -> dt.timedelta:
    """1 min, 2, 4, ... capped at an hour."""
    return dt.timedelta(seconds=min(MAX_BACKOFF, BASE_BACKOFF * 2 ** max(0, failures - 1)))


def status(mailbox: Mailbox) -> dict[str, Any]:
    """What the admin page shows about a mailbox's polling."""
    if not mailbox.polls_imap:
        state = "off"
    elif mailbox.imap_failures:
        state = "failing"
    elif mailbox.imap_uidvalidity is None:
        state = "waiting"  # not polled successfully yet
    else:
        state = "ok"
    return {
        "state": state,
        "server": f"{mailbox.imap_host}:{mailbox.imap_port}" if mailbox.polls_imap else None,
        "security": mailbox.imap_security,
        "user": mailbox.imap_user,
        "folder": mailbox.imap_folder,
        "failures": mailbox.imap_failures,
        "error": mailbox.imap_error,
        "next_poll_at": mailbox.imap_next_poll_at,
        "uidvalidity": _unsigned(mailbox.imap_uidvalidity),
        "last_uid": _unsigned(mailbox.imap_last_uid),
    }


def poll_due(poller: Poller, *, limit: int = PARALLEL) -> list[PollResult]:
    """One pass: claim up to `limit` due mailboxes and poll them side by side."""
    with poller.ingest_lock, transaction(poller.factory) as session:  # SQLite: a read, then a write
        claims = _claim(session, limit)
    if len(claims) <= 1:
        return [poll(poller, claim) for claim in claims]
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(claims)), thread_name_prefix="balie-imap") as pool:
        return list(pool.map(partial(poll, poller), claims))


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return and_(
        Mailbox.imap_host.is_not(None), Mailbox.imap_host != "", Mailbox.imap_user.is_not(None),
        or_(Mailbox.imap_next_poll_at.is_(None), Mailbox.imap_next_poll_at <= now),
        or_(Mailbox.imap_locked_until.is_(None), Mailbox.imap_locked_until < now),
    )


def _claim(session: Session, limit: int) -> list[_Claim]:
    """Unscoped on purpose: the worker serves every shop."""
    now = clock.now()
    lease = now + LEASE
    query = (select(Mailbox.id).where(_due(now))
             .order_by(Mailbox.imap_next_poll_at.nulls_first(), Mailbox.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[int] = []
    for mailbox_id in session.scalars(query).all():
        # The conditional update makes the claim safe on SQLite too: only one worker's wins.
        result = session.execute(update(Mailbox).where(Mailbox.id == mailbox_id, _due(now))
                                 .values(imap_locked_until=lease))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(mailbox_id)
    if not claimed:
        return []
    mailboxes = session.scalars(select(Mailbox).where(Mailbox.id.in_(claimed)).order_by(Mailbox.id))
    return [
        _Claim(
            mailbox_id=mailbox.id,
            account=imap.Account(host=mailbox.imap_host or "", port=mailbox.imap_port or 993,
                                 security=mailbox.imap_security, user=mailbox.imap_user or "",
                                 password=mailbox.imap_password or "", folder=mailbox.imap_folder or "INBOX"),
            failures=mailbox.imap_failures,
            lease=lease,
            uidvalidity=_unsigned(mailbox.imap_uidvalidity),
            last_uid=_unsigned(mailbox.imap_last_uid) or 0,
        )
        for mailbox in mailboxes
    ]


def poll(poller: Poller, claim: _Claim) -> PollResult:
    """Take in one batch of new mail from a claimed mailbox, then record how it went."""
    error: str | None = None
    try:
        if not poller.settings.webhook_allow_private:
            _refuse_internal(claim.account)
        with imap.open_folder(claim.account, timeout=poller.timeout) as folder:
            _take_in(poller, claim, folder)
    except imap.ImapFailure as failure:
        error = str(failure)
    except LostClaim:
        log.warning("IMAP mailbox %s: claim lost mid-poll (lease taken over, or the settings changed)",
                    claim.mailbox_id)
        _release(poller, claim)
        return PollResult(claim.mailbox_id, claim.stored, claim.skipped, "claim lost")
    except Exception as failure:  # the database or the disk: retried later like an unreachable server
        log.exception("IMAP mailbox %s: storing mail failed", claim.mailbox_id)
        error = f"storing mail failed ({failure.__class__.__name__}); retrying"
    try:
        _finish(poller, claim, error)
    except LostClaim:
        log.warning("IMAP mailbox %s: claim lost before the outcome was recorded", claim.mailbox_id)
    if error is not None:
        log.warning("IMAP mailbox %s (%s@%s): %s", claim.mailbox_id, claim.account.user, claim.account.host, error)
    return PollResult(claim.mailbox_id, claim.stored, claim.skipped, error)


def _refuse_internal(account: imap.Account) -> None:
    """The server was checked when it was saved; checked again now, because the name may resolve
    elsewhere today, and Balie must not be made to log in to services inside its own network
    (BALIE_WEBHOOK_ALLOW_PRIVATE=1 allows it, for a mail server on the same machine or LAN)."""
    host = f"[{account.host}]" if ":" in account.host else account.host
    problem = netguard.private_target(f"imap://{host}")
    if problem:
        raise imap.ImapFailure(f"IMAP server not polled: {problem}")


def _take_in(poller: Poller, claim: _Claim, folder: imap.Folder) -> None:
    if claim.uidvalidity != folder.uidvalidity:
        _start_over(poller, claim, folder)
    uids = folder.uids_after(claim.last_uid)
    batch, claim.more = uids[:BATCH_SIZE], len(uids) > BATCH_SIZE
    summaries = folder.summaries(batch)
    known = _known_message_ids(poller, claim, summaries.values())
    max_bytes = poller.settings.mail_max_bytes
    for uid in batch:  # ascending: progress is one number, the highest UID done
        summary = summaries.get(uid)
        message_id = headers.message_id(summary.message_id) if summary else None
        if summary is not None and summary.size > max_bytes:
            _skip_oversized(claim, uid, summary.size, max_bytes)
        elif message_id is not None and message_id in known:
            log.info("IMAP mailbox %s: UID %s is %s, already taken in; not fetched", claim.mailbox_id, uid, message_id)
        else:
            raw = folder.fetch(uid)
            if raw is None:
                log.info("IMAP mailbox %s: UID %s vanished before it was fetched", claim.mailbox_id, uid)
            elif len(raw) > max_bytes:  # the server's RFC822.SIZE was wrong
                _skip_oversized(claim, uid, len(raw), max_bytes)
            else:
                try:
                    _store(poller, claim, uid, raw)
                except (BalieError, DataError) as refused:
                    # This mail's content is refused (a Message-ID too long for the column, a control
                    # character): trying again would refuse it again and block the mail behind it.
                    claim.skipped += 1
                    log.error("IMAP mailbox %s (folder %r): UID %s skipped, it cannot be stored: %s; "
                              "it stays on the server, unread", claim.mailbox_id, claim.account.folder, uid,
                              str(refused).splitlines()[0][:300])
                else:
                    claim.stored += 1
                    if message_id is not None:
                        known.add(message_id)
        # Recorded with the next mail stored, or by _finish; a crash before that only repeats these skips.
        claim.last_uid = uid


def _skip_oversized(claim: _Claim, uid: int, size: int, max_bytes: int) -> None:
    claim.skipped += 1
    log.warning("IMAP mailbox %s (folder %r): UID %s skipped: %s bytes is over BALIE_MAIL_MAX_BYTES (%s); "
                "it stays on the server, unread", claim.mailbox_id, claim.account.folder, uid, size, max_bytes)


def _start_over(poller: Poller, claim: _Claim, folder: imap.Folder) -> None:
    """First poll, or the folder was recreated (its UIDVALIDITY changed, so old UIDs mean nothing).

    Mail that arrived in the folder within LOOKBACK is considered again, everything older is
    left alone: a first poll does not import years of a mailbox's history, and after a change
    the mail that arrived while we were not looking is not lost. Of what is considered, mail
    whose Message-ID we already have is skipped before its body is fetched (_take_in).
    """
    since = (clock.now() - LOOKBACK).date()
    recent = folder.uids_since(since)
    start = recent[0] - 1 if recent else folder.highest_uid()
    if claim.uidvalidity is not None:
        log.warning("IMAP mailbox %s: folder %r was recreated (UIDVALIDITY %s -> %s); taking mail since %s again",
                    claim.mailbox_id, claim.account.folder, claim.uidvalidity, folder.uidvalidity, since)
    # Written with the first mail stored, or by _finish; a crash before that starts over again.
    claim.uidvalidity, claim.last_uid = folder.uidvalidity, start


def _known_message_ids(poller: Poller, claim: _Claim, summaries: Iterable[imap.Summary]) -> set[str]:
    wanted = {mid for summary in summaries if (mid := headers.message_id(summary.message_id)) is not None}
    if not wanted:
        return set()
    with poller.factory() as session:
        shop_id = session.scalars(select(Mailbox.shop_id).where(Mailbox.id == claim.mailbox_id)).one()
        # The same rule the ingest dedupe applies: one shop, one channel, one external id.
        return set(session.scalars(select(Message.external_id).where(
            Message.shop_id == shop_id, Message.channel == "email", Message.external_id.in_(wanted))))


def _store(poller: Poller, claim: _Claim, uid: int, raw: bytes) -> None:
    """The mail and our progress past it commit together, or neither does."""
    with poller.ingest_lock, transaction(poller.factory) as session:
        lease = _advance(session, claim, last_uid=uid)  # first: it checks (on PostgreSQL: locks) our claim
        mailbox = session.get_one(Mailbox, claim.mailbox_id)
        receive(session, mailbox=mailbox, raw=raw, store=poller.store, limiter=poller.limiter,
                hold_per_hour=poller.settings.mail_hold_per_hour)
    claim.last_uid, claim.lease = uid, lease


def _advance(session: Session, claim: _Claim, *, last_uid: int | None = None, **values: Any) -> dt.datetime:
    """Writes the progress (and `values`) if the mailbox is still ours, renewing the lease;
    returns the new lease, which is ours once the transaction commits."""
    lease = clock.now() + LEASE
    account = claim.account
    result = session.execute(
        update(Mailbox)
        .where(Mailbox.id == claim.mailbox_id, Mailbox.imap_locked_until == claim.lease,
               Mailbox.imap_host == account.host, Mailbox.imap_user == account.user,
               Mailbox.imap_folder == account.folder)
        .values(imap_uidvalidity=_signed(claim.uidvalidity),
                imap_last_uid=_signed(claim.last_uid if last_uid is None else last_uid),
                imap_locked_until=values.pop("imap_locked_until", lease), **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LostClaim(claim.mailbox_id)
    return lease


def _finish(poller: Poller, claim: _Claim, error: str | None) -> None:
    now = clock.now()
    if error is None:
        values: dict[str, Any] = {"imap_failures": 0, "imap_error": None,
                                  "imap_next_poll_at": now if claim.more else now + POLL_INTERVAL}
    else:
        failures = claim.failures + 1
        values = {"imap_failures": failures, "imap_error": error[:1000], "imap_next_poll_at": now + backoff(failures)}
    with transaction(poller.factory) as session:
        _advance(session, claim, imap_locked_until=None, **values)


def _release(poller: Poller, claim: _Claim) -> None:
    """After new settings, the lease (if still ours) need not run out before the next poll."""
    with transaction(poller.factory) as session:
        session.execute(update(Mailbox).where(Mailbox.id == claim.mailbox_id, Mailbox.imap_locked_until == claim.lease)
                        .values(imap_locked_until=None))


def _signed(value: int | None) -> int | None:
    return value - _INT32 if value is not None and value >= _INT32 // 2 else value


def _unsigned(value: int | None) -> int | None:
    return value + _INT32 if value is not None and value < 0 else value
