"""The IMAP conversation with a shop's existing mailbox: connect (TLS, STARTTLS or plain), log in,
open one folder read-only, list UIDs, read sizes and Message-IDs, fetch one mail unread.

imaplib from the standard library is enough: polling needs six commands, and it has no
dependency to keep up to date. What it leaves to the caller is small and lives here: quoting
and modified UTF-7 for folder names, reading FETCH responses, and turning its exceptions into
reasons an admin can act on (never containing the password).
"""

from __future__ import annotations

import base64
import datetime as dt
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

SOCKET_TIMEOUT = 20.0  # seconds, for connecting and for every read
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_UNTAGGED_FETCH = re.compile(rb"^\d+ \(")


class ImapFailure(Exception):
    """The server cannot be polled now; the text is shown to the shop's admin."""


@dataclass(frozen=True)
class Account:
    host: str
    port: int
    security: str  # tls | starttls | none
    user: str
    password: str = field(repr=False)
    folder: str = "INBOX"


@dataclass(frozen=True)
class Summary:
    uid: int
    size: int
    message_id: str | None  # the raw header value, unfolded


class Folder:
    """One folder opened read-only (EXAMINE): nothing we do marks a mail read or deletes it."""

    def __init__(self, client: imaplib.IMAP4, account: Account, uidvalidity: int, uidnext: int | None,
                 exists: int) -> None:
        self._client = client
        self._account = account
        self.uidvalidity = uidvalidity
        self.uidnext = uidnext
        self.exists = exists

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, ascending. The server's UIDNEXT usually answers without a search."""
        if self.exists == 0 or (self.uidnext is not None and self.uidnext <= last_uid + 1):
            return []
        # "n:*" also matches the highest UID when it is below n (RFC 3501 6.4.8), hence the filter.
        found = self._search("UID", f"{last_uid + 1}:*")
        return sorted(uid for uid in found if uid > last_uid)

    def uids_since(self, day: dt.date) -> list[int]:
        """UIDs of mail that arrived in the folder on or after `day` (its INTERNALDATE), ascending."""
        if self.exists == 0:
            return []
        return sorted(self._search("SINCE", f"{day.day}-{MONTHS[day.month - 1]}-{day.year}"))

    def highest_uid(self) -> int:
        if self.uidnext is not None:
            return self.uidnext - 1
        return 0 if self.exists == 0 else max(self._search("UID", "*"), default=0)

    def summaries(self, uids: Sequence[int]) -> dict[int, Summary]:
        """Size and Message-ID of each mail, in one round trip; a UID expunged meanwhile is absent."""
        if not uids:
            return {}
        data = self._uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        found: dict[int, Summary] = {}
        for text, literal in _records(data):
            uid, size = _UID.search(text), _SIZE.search(text)
            if uid is None or size is None:
                continue  # an unsolicited FLAGS update, not an answer
            found[int(uid.group(1))] = Summary(int(uid.group(1)), int(size.group(1)), _message_id(literal))
        return found

    def fetch(self, uid: int) -> bytes | None:
        """The whole mail as the server has it; BODY.PEEK leaves it unread. None if it is gone."""
        data = self._uid("FETCH", str(uid), "(UID BODY.PEEK[])")
        literals = [(text, literal) for text, literal in _records(data) if literal is not None]
        for text, literal in literals:
            match = _UID.search(text)
            if match is not None and int(match.group(1)) == uid:
                return literal
        # One UID was asked for: a lone body is that mail, even from a server that omits the UID.
        return literals[0][1] if len(literals) == 1 else None

    def _search(self, *criteria: str) -> list[int]:
        data = self._uid("SEARCH", *criteria)
        return [int(token) for line in data if isinstance(line, bytes) for token in line.split() if token.isdigit()]

    def _uid(self, command: str, *args: str) -> list[Any]:
        try:
            status, data = self._client.uid(command, *args)
        except (imaplib.IMAP4.error, OSError) as error:
            raise _failure(error, self._account, f"UID {command}") from None
        if status != "OK":
            raise ImapFailure(_scrub(f"the server refused UID {command}: {_text(data)}", self._account))
        return data


@contextmanager
def open_folder(account: Account, *, timeout: float = SOCKET_TIMEOUT) -> Iterator[Folder]:
    """Logged in with the folder selected for the life of the block; logged out after, whatever happens."""
    client = _connect(account, timeout)
    try:
        _login(client, account)
        yield _examine(client, account)
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def encode_folder(name: str) -> str:
    """A folder name as IMAP wants it on the wire: modified UTF-7 (RFC 3501 5.1.3), quoted."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    wire = "".join(out)
    return '"' + wire.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _connect(account: Account, timeout: float) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    try:
        if account.security == "tls":
            return imaplib.IMAP4_SSL(account.host, account.port, ssl_context=context, timeout=timeout)
        client = imaplib.IMAP4(account.host, account.port, timeout=timeout)
    except (imaplib.IMAP4.error, OSError) as error:
        raise _failure(error, account, "connect") from None
    if account.security != "starttls":
        return client
    if "STARTTLS" not in client.capabilities:
        client.shutdown()
        raise ImapFailure(f"{account.host}:{account.port} does not offer STARTTLS; use imaps:// or check the port")
    try:
        client.starttls(ssl_context=context)
    except (imaplib.IMAP4.error, OSError) as error:
        client.shutdown()
        raise _failure(error, account, "STARTTLS") from None
    return client


def _login(client: imaplib.IMAP4, account: Account) -> None:
    try:
        if "AUTH=PLAIN" in client.capabilities:
            # PLAIN carries any character (imaplib's LOGIN is ASCII-only and leaves the user unquoted).
            secret = b"\0" + account.user.encode("utf-8") + b"\0" + account.password.encode("utf-8")
            client.authenticate("PLAIN", lambda _challenge: secret)
        else:
            client.login(account.user, account.password)
    except imaplib.IMAP4.abort as error:
        raise _failure(error, account, "login") from None
    except imaplib.IMAP4.error as error:
        raise ImapFailure(_scrub(f"login refused for {account.user}: {_reason(error)}", account)) from None
    except UnicodeError:
        raise ImapFailure(f"{account.host} offers only LOGIN, which takes no accents or other non-ASCII "
                          "characters in the user name or password") from None
    except OSError as error:
        raise _failure(error, account, "login") from None


def _examine(client: imaplib.IMAP4, account: Account) -> Folder:
    try:
        status, data = client.select(encode_folder(account.folder), readonly=True)
    except (imaplib.IMAP4.error, OSError) as error:
        raise _failure(error, account, f"opening folder {account.folder!r}") from None
    if status != "OK":
        raise ImapFailure(_scrub(f"folder {account.folder!r} cannot be opened: {_text(data)}", account))
    uidvalidity = _number(client, "UIDVALIDITY")
    if uidvalidity is None:
        raise ImapFailure(f"the server gave no UIDVALIDITY for folder {account.folder!r}")
    exists = int(data[0]) if data and isinstance(data[0], bytes) and data[0].isdigit() else -1
    return Folder(client, account, uidvalidity, _number(client, "UIDNEXT"), exists)


def _number(client: imaplib.IMAP4, key: str) -> int | None:
    values = client.untagged_responses.get(key) or []
    value = values[-1] if values else None
    return int(value) if isinstance(value, bytes) and value.isdigit() else None


def _records(data: list[Any]) -> list[tuple[bytes, bytes | None]]:
    """imaplib's FETCH answer as (response text, literal) per message. A literal arrives as a
    (text, bytes) pair; text after it (b' FLAGS (...))') belongs to the same message."""
    records: list[tuple[bytes, bytes | None]] = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            records.append((bytes(item[0]), bytes(item[1])))
        elif isinstance(item, bytes):
            if _UNTAGGED_FETCH.match(item) or not records:
                records.append((item, None))
            else:
                text, literal = records[-1]
                records[-1] = (text + item, literal)
    return records


def _message_id(header: bytes | None) -> str | None:
    if not header:
        return None
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", header)
    for line in unfolded.splitlines():
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"message-id":
            return value.strip().decode("ascii", "replace") or None
    return None


def _failure(error: BaseException, account: Account, doing: str) -> ImapFailure:
    where = f"{account.host}:{account.port}"
    if isinstance(error, socket.gaierror):
        reason = f"host {account.host!r} not found"
    elif isinstance(error, ConnectionRefusedError):
        reason = f"connection to {where} refused"
    elif isinstance(error, TimeoutError):
        reason = f"{where} did not answer in time ({doing})"
    elif isinstance(error, ssl.SSLCertVerificationError):
        reason = f"TLS certificate of {where} not accepted: {error.verify_message or error.reason}"
    elif isinstance(error, ssl.SSLError):
        reason = f"TLS with {where} failed ({error.reason or error}); is the port and security right?"
    elif isinstance(error, imaplib.IMAP4.abort):
        reason = f"{where} closed the connection ({doing}): {_reason(error)}"
    elif isinstance(error, OSError):
        reason = f"cannot talk to {where} ({doing}): {error.strerror or error}"
    else:
        reason = f"{where} answered with an error ({doing}): {_reason(error)}"
    return ImapFailure(_scrub(reason, account))


def _reason(error: BaseException) -> str:
    text = error.args[0] if error.args else error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip() or error.__class__.__name__


def _text(data: list[Any]) -> str:
    parts = [item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item) for item in data if item]
    return " ".join(parts).strip() or "no reason given"


def _scrub(text: str, account: Account) -> str:
    """A server that echoes what it was sent must not put the password in our error column."""
    return text.replace(account.password, "***") if account.password else text
